namespace Larsbot.Notify;

/// <summary>Twilio credentials and endpoint, bound from the "Twilio" configuration section.</summary>
internal sealed class TwilioOptions
{
    public string AccountSid { get; set; } = "";

    public string AuthToken { get; set; } = "";

    /// <summary>The Twilio number pages are sent from, in E.164 form.</summary>
    public string From { get; set; } = "";

    /// <summary>Overridable so tests and contract checks can point at a stand-in.</summary>
    public string BaseUrl { get; set; } = "https://api.twilio.com";

    /// <summary>One attempt's budget; past it the attempt is a Retry that may have been delivered.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    public bool IsConfigured =>
        !string.IsNullOrWhiteSpace(AccountSid) && !string.IsNullOrWhiteSpace(AuthToken) && !string.IsNullOrWhiteSpace(From);
}
