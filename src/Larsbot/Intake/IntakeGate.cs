using System.Net;
using System.Security.Cryptography;
using System.Text;
using Larsbot.Roster;
using Microsoft.Extensions.Options;

namespace Larsbot.Intake;

/// <summary>
/// Who is sending: null hosts = any host (shared token, loopback, trusted network). <see cref="Key"/> names the
/// caller for the per-caller rate limit: the token's name when a token was given, else the remote address.
/// </summary>
public sealed record IntakeCaller(string Via, IReadOnlyList<string>? Hosts, string? LimitKey = null)
{
    public string Key => LimitKey ?? Via;

    /// <summary>True when no token was presented (loopback or a trusted network): a browser could be the sender.</summary>
    public bool WithoutToken => Via is "loopback" or "network";

    public bool MaySendFor(string host) => Hosts is null || Hosts.Any(h => Wildcard.IsMatch(h, host));
}

/// <summary>An authentication outcome: a caller, or a status (401/403) with a one-line reason.</summary>
public sealed record IntakeAuth(IntakeCaller? Caller, int Status, string? Reason)
{
    public bool Ok => Caller is not null;
    public static IntakeAuth Allow(IntakeCaller c) => new(c, 0, null);
    public static IntakeAuth Deny(int status, string reason) => new(null, status, reason);
}

/// <summary>
/// Decides who may hand in alerts, for HTTP and TCP alike: the network check first (403), then the token (401),
/// then, per alert, whether that token may speak for the alert's host (403). Tokens are compared as SHA-256 digests
/// with <see cref="CryptographicOperations.FixedTimeEquals"/> over every configured token, so neither timing nor
/// length tells a guesser how close they came.
/// </summary>
public sealed class IntakeGate
{
    private readonly IntakeOptions _options;
    private readonly (byte[] Digest, IntakeToken Token)[] _tokens;
    private readonly IPNetwork[] _networks;

    public IntakeGate(IOptions<IntakeOptions> options)
    {
        _options = options.Value;
        _tokens = _options.Tokens.Where(t => !string.IsNullOrEmpty(t.Token))
            .Select(t => (SHA256.HashData(Encoding.UTF8.GetBytes(t.Token)), t)).ToArray();
        _networks = _options.AllowedNetworks.Select(n => IPNetwork.TryParse(n, out var net) ? net : (IPNetwork?)null)
            .OfType<IPNetwork>().ToArray();
    }

    /// <summary>True when any intake token is configured (then a PagerDuty routing_key must be one of them).</summary>
    public bool HasTokens => _tokens.Length > 0;

    private static IPAddress Normalise(IPAddress? a) =>
        a is null ? IPAddress.None : a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    /// <summary>403 reason when this address may not use the intake at all; null when it may go on.</summary>
    public string? CheckNetwork(IPAddress? remote)
    {
        var ip = Normalise(remote);
        // With the loopback exemption off, loopback is an address like any other (and tests can exercise the 403).
        if (IPAddress.IsLoopback(ip) && _options.AllowLoopbackWithoutToken) return null;
        if (_networks.Length > 0)
            return _networks.Any(n => n.Contains(ip)) ? null : $"address {ip} is not in Intake:AllowedNetworks";
        // Nothing configured: only this machine may send, even if HttpUrl was opened to the network.
        return _tokens.Length > 0 ? null : $"address {ip} refused: the intake takes only loopback until Intake:Tokens or Intake:AllowedNetworks is set";
    }

    /// <summary>Checks the token (null or empty: none given). Call after <see cref="CheckNetwork"/>.</summary>
    public IntakeAuth Authenticate(IPAddress? remote, string? token)
    {
        var ip = Normalise(remote);
        if (string.IsNullOrEmpty(token))
        {
            if (IPAddress.IsLoopback(ip) && _options.AllowLoopbackWithoutToken) return IntakeAuth.Allow(new IntakeCaller("loopback", null, ip.ToString()));
            if (_tokens.Length == 0 && _networks.Length > 0 && _networks.Any(n => n.Contains(ip)))
                return IntakeAuth.Allow(new IntakeCaller("network", null, ip.ToString()));
            return IntakeAuth.Deny(401, "missing token: send 'Authorization: Bearer <token>' or a 'token' field");
        }
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        IntakeToken? found = null;
        var index = -1;
        for (var i = 0; i < _tokens.Length; i++)
        {
            // No early exit: every token is compared whatever matched.
            if (CryptographicOperations.FixedTimeEquals(_tokens[i].Digest, digest)) (found, index) = (_tokens[i].Token, i);
        }
        if (found is null) return IntakeAuth.Deny(401, "bad token");
        var via = found.Name.Length > 0 ? $"token '{found.Name}'" : "token";
        return IntakeAuth.Allow(new IntakeCaller(via, found.Hosts.Count == 0 ? null : found.Hosts,
            found.Name.Length > 0 ? via : $"token #{index}"));
    }

    /// <summary>403 reason when the caller's token may not send alerts for <paramref name="host"/>.</summary>
    public static string? CheckHost(IntakeCaller caller, string? host)
    {
        var h = host?.Trim() ?? "";
        if (h.Length == 0 || caller.MaySendFor(h)) return null;
        return $"this token may not send alerts for host '{(h.Length <= 40 ? h : h[..40] + "…")}'";
    }
}
