using System.Security.Cryptography;
using System.Text;
using Larsbot.Acks;
using Larsbot.Intake;
using Microsoft.Extensions.Options;

namespace Larsbot.StatusPage;

/// <summary>Bound from "StatusPage": read-only viewer tokens, for a link that can look but never page or ack.</summary>
internal sealed class StatusPageOptions
{
    /// <summary>Tokens that open the status page (/, /live, /status.json, /reports/...) and nothing else.</summary>
    public List<ViewerToken> Tokens { get; set; } = [];

    /// <summary>Start-up checks (also `larsbot check`); each names its key, never the value.</summary>
    public IEnumerable<string> Validate(IntakeOptions intake, AckOptions acks)
    {
        for (var i = 0; i < Tokens.Count; i++)
        {
            var t = Tokens[i].Token;
            if (string.IsNullOrWhiteSpace(t))
                yield return $"StatusPage:Tokens:{i}:Token is empty";
            else if (t.Length < 16)
                yield return $"StatusPage:Tokens:{i}:Token is shorter than 16 characters; use a long random string (openssl rand -hex 24)";
            else if (t.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                yield return $"StatusPage:Tokens:{i}:Token must not contain spaces or control characters";
            else if (intake.Tokens.Any(x => x.Token == t) || acks.Tokens.Any(x => x.Token == t))
                yield return $"StatusPage:Tokens:{i}:Token is also an intake or ack token; a viewer token must only be able to look";
        }
    }
}

internal sealed class ViewerToken
{
    public string Name { get; set; } = "";
    public string Token { get; set; } = "";

    // Never let a token reach a log line through ToString().
    public override string ToString() => $"viewer token '{Name}'";
}

/// <summary>The viewer tokens as SHA-256 digests, compared in fixed time over every one (as the intake's are).</summary>
internal sealed class ViewerTokens(IOptions<StatusPageOptions> options)
{
    private readonly byte[][] _digests = options.Value.Tokens.Where(t => !string.IsNullOrEmpty(t.Token))
        .Select(t => SHA256.HashData(Encoding.UTF8.GetBytes(t.Token))).ToArray();

    public bool Any => _digests.Length > 0;

    public bool Matches(string? token)
    {
        if (string.IsNullOrEmpty(token)) return false;
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        var found = false;
        foreach (var d in _digests) found |= CryptographicOperations.FixedTimeEquals(d, digest);
        return found;
    }
}
