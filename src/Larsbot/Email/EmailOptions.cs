namespace Larsbot.Email;

/// <summary>Bound from "Email": where the info-level digest goes. Off until SmtpHost is set.</summary>
internal sealed class EmailOptions
{
    public string SmtpHost { get; set; } = "";
    public int SmtpPort { get; set; } = 25;
    /// <summary>None, StartTls, StartTlsWhenAvailable (default: use TLS when the server offers it) or SslOnConnect.</summary>
    public string Security { get; set; } = "StartTlsWhenAvailable";
    public string Username { get; set; } = "";
    public string Password { get; set; } = "";
    public string From { get; set; } = "larsbot@localhost";
    /// <summary>Recipients; empty: everyone in the roster with an e-mail address.</summary>
    public List<string> To { get; set; } = [];
    /// <summary>Info alerts are collected and sent as one mail this often (nothing is sent when there were none).</summary>
    public TimeSpan DigestEvery { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>At most this many alerts are listed in one digest; the rest go in the next one.</summary>
    public int MaxAlertsPerDigest { get; set; } = 500;
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(SmtpHost);
}
