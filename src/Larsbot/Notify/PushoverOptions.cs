namespace Larsbot.Notify;

/// <summary>Pushover application token and endpoint, bound from the "Pushover" configuration section.</summary>
internal sealed class PushoverOptions
{
    public string AppToken { get; set; } = "";

    public string BaseUrl { get; set; } = "https://api.pushover.net";

    /// <summary>Pushover priority (-2..2). 1 ("high") bypasses the user's quiet hours.</summary>
    public int Priority { get; set; } = 1;

    /// <summary>Only used at priority 2: how often Pushover re-alerts the phone (Pushover's minimum is 30 s).</summary>
    public TimeSpan EmergencyRetry { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Only used at priority 2: when Pushover stops re-alerting (Pushover's maximum is 3 hours).</summary>
    public TimeSpan EmergencyExpire { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Only at priority 2: the bot's public base URL (https://larsbot.example.com). With <see cref="CallbackSecret"/>
    /// each emergency page carries callback=&lt;base&gt;/pushover/callback/&lt;secret&gt;, so acknowledging on the phone acks
    /// in Larsbot. Pushover does not sign callbacks: the secret in the URL is what proves the caller.
    /// </summary>
    public string CallbackBaseUrl { get; set; } = "";
    public string CallbackSecret { get; set; } = "";

    /// <summary>Only at priority 2: how often open emergency pages' receipts are polled (works without a public URL).</summary>
    public TimeSpan ReceiptPollEvery { get; set; } = TimeSpan.FromSeconds(30);

    public string? CallbackUrl => Priority == 2 && CallbackBaseUrl.Length > 0 && CallbackSecret.Length > 0
        ? $"{CallbackBaseUrl.TrimEnd('/')}/pushover/callback/{Uri.EscapeDataString(CallbackSecret)}"
        : null;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(AppToken);

    /// <summary>
    /// The callback secret is all that proves a callback came from Pushover, so it is as long as an intake token.
    /// Empty is fine (no callback; receipts are polled). The value is never echoed.
    /// </summary>
    public IEnumerable<string> ValidateCallbackSecret()
    {
        if (CallbackSecret.Length == 0) yield break;
        if (CallbackSecret.Length < Setup.Secrets.MinLength)
            yield return $"Pushover:CallbackSecret is shorter than {Setup.Secrets.MinLength} characters; use a long random string (openssl rand -hex 24)";
        else if (CallbackSecret.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            yield return "Pushover:CallbackSecret must not contain spaces or control characters";
    }
}
