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

    /// <summary>
    /// The public URL of this bot's POST /twilio/status (e.g. https://larsbot.example.net/twilio/status), sent with every
    /// SMS and call as Twilio's StatusCallback, so delivery is reported (and a failed SMS moves on at once). Callbacks
    /// are signed over this exact URL. Without it the bot polls each message for <see cref="StatusPollFor"/> instead.
    /// </summary>
    public string? StatusCallbackUrl { get; set; }

    /// <summary>Without a StatusCallbackUrl: how often an SMS or call still in flight is asked about.</summary>
    public TimeSpan StatusPollEvery { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Without a StatusCallbackUrl: how long after sending a message is still asked about.</summary>
    public TimeSpan StatusPollFor { get; set; } = TimeSpan.FromMinutes(15);

    public bool IsConfigured =>
        !string.IsNullOrWhiteSpace(AccountSid) && !string.IsNullOrWhiteSpace(AuthToken) && !string.IsNullOrWhiteSpace(From);
}
