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

    /// <summary>
    /// Start-up checks (also `larsbot check`). A password is never sent over a connection that is not encrypted:
    /// with Security None it would be, so that is refused here; with StartTlsWhenAvailable (or Auto) against a server
    /// that offers no TLS, <see cref="EmailDigest"/> refuses to log in when it sends.
    /// </summary>
    public IEnumerable<string> Validate()
    {
        if (!IsConfigured) yield break;
        if (!Enum.TryParse<MailKit.Security.SecureSocketOptions>(Security, ignoreCase: true, out var security) || int.TryParse(Security, out _))
            yield return $"Email:Security '{Security}' is not one of None, StartTls, StartTlsWhenAvailable, SslOnConnect, Auto";
        else if (security == MailKit.Security.SecureSocketOptions.None && Password.Length > 0)
            yield return "Email:Password is set but Email:Security is None, so the password would cross the network in plain text; " +
                         "use StartTls (port 587) or SslOnConnect (port 465)";
    }
}
