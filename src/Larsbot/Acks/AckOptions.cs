namespace Larsbot.Acks;

/// <summary>Bound from "Acks": the ways to ack from outside IRC.</summary>
internal sealed class AckOptions
{
    /// <summary>Personal tokens for POST /ack. Each belongs to one roster person, who is the one credited in the ledger.</summary>
    public List<AckToken> Tokens { get; set; } = [];

    /// <summary>
    /// The exact URL configured in Twilio for incoming SMS (the signature covers it). Behind a proxy the URL Kestrel
    /// sees differs from the one Twilio signed, so set this; empty: rebuilt from the request.
    /// </summary>
    public string TwilioSmsUrl { get; set; } = "";
}

internal sealed class AckToken
{
    public string Token { get; set; } = "";
    /// <summary>Roster id of the person this token acks as.</summary>
    public string Person { get; set; } = "";

    public override string ToString() => $"ack token for '{Person}'";
}
