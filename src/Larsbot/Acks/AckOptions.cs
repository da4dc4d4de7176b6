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

    /// <summary>Start-up checks (also run by `larsbot check`); each problem names its key, never the value.</summary>
    public IEnumerable<string> Validate()
    {
        for (var i = 0; i < Tokens.Count; i++)
        {
            var t = Tokens[i];
            if (string.IsNullOrWhiteSpace(t.Token))
                yield return $"Acks:Tokens:{i}:Token is empty";
            else if (t.Token.Length < MinSecretLength)
                yield return $"Acks:Tokens:{i}:Token is shorter than {MinSecretLength} characters; use a long random string (openssl rand -hex 24)";
            else if (t.Token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                yield return $"Acks:Tokens:{i}:Token must not contain spaces or control characters";
            if (string.IsNullOrWhiteSpace(t.Person))
                yield return $"Acks:Tokens:{i}:Person is empty; name the roster id this token acks as";
        }
    }

    /// <summary>The shortest ack token or callback secret accepted, as for intake tokens.</summary>
    public const int MinSecretLength = Setup.Secrets.MinLength;
}

internal sealed class AckToken
{
    public string Token { get; set; } = "";
    /// <summary>Roster id of the person this token acks as.</summary>
    public string Person { get; set; } = "";

    public override string ToString() => $"ack token for '{Person}'";
}
