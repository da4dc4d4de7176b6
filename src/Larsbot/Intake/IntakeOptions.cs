namespace Larsbot.Intake;

/// <summary>Bound from "Intake".</summary>
public sealed class IntakeOptions
{
    /// <summary>Where HTTP intake, /health and later /metrics listen. Loopback by default: nothing is exposed until you say so.</summary>
    public string HttpUrl { get; set; } = "http://127.0.0.1:8080";
    /// <summary>
    /// HTTP connections served by a thread of their own (at most this many at a time; the rest by Kestrel's own
    /// transport): a lone sender's alert is read, stored and answered on one thread, without waking a second. 0 turns
    /// it off. See Hosting/ConnectionThreads.cs.
    /// </summary>
    public int ConnectionThreads { get; set; } = 2;
    /// <summary>Line-based TCP intake ("LEVEL host message"); 0 picks a free port (tests), -1 turns it off.</summary>
    public int TcpPort { get; set; } = 7777;
    public string TcpAddress { get; set; } = "127.0.0.1";
    /// <summary>Largest HTTP body or TCP line accepted, in bytes.</summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024;
    /// <summary>A TCP client silent this long is disconnected, so idle sockets cannot pile up.</summary>
    public TimeSpan TcpIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);
    public int TcpMaxConnections { get; set; } = 256;
    /// <summary>Connections one address may hold open at once, so one address cannot take every slot.</summary>
    public int TcpMaxConnectionsPerAddress { get; set; } = 16;
    /// <summary>A TCP client that has not sent a line (or its AUTH, when a token is needed) this long after connecting is disconnected.</summary>
    public TimeSpan TcpFirstLineTimeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>
    /// Host names (the Host header, without port; <c>*</c> patterns) the HTTP side answers to. Empty: any. IP
    /// literals and <c>localhost</c> are always allowed. Set it to refuse DNS-rebinding pages.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>
    /// Bearer tokens. When any is configured, every sender outside loopback (and loopback too, unless
    /// <see cref="AllowLoopbackWithoutToken"/>) must present one. A token with <c>Hosts</c> may only send alerts for
    /// those hosts (exact names or <c>*</c> patterns); without, it is shared by every host.
    /// </summary>
    public List<IntakeToken> Tokens { get; set; } = [];
    /// <summary>CIDR ranges (10.0.0.0/8, fd00::/8) allowed to reach the intake at all; others get 403. Empty: no filter.</summary>
    public List<string> AllowedNetworks { get; set; } = [];
    /// <summary>Loopback needs no token, so the demo and local scripts work out of the box. Turn off on shared machines.</summary>
    public bool AllowLoopbackWithoutToken { get; set; } = true;

    /// <summary>Alerts one host may send back to back before the rate limit applies.</summary>
    public int PerHostBurst { get; set; } = 20;
    /// <summary>Sustained alerts per minute per host once the burst is spent; more are answered 429.</summary>
    public int PerHostPerMinute { get; set; } = 60;
    /// <summary>Alerts, resolves and acknowledges one caller (a token's name, else the remote address) may send back to back, whatever the hosts.</summary>
    public int PerCallerBurst { get; set; } = 200;
    /// <summary>Sustained alerts per minute per caller once its burst is spent; more are answered 429 (503 to Alertmanager).</summary>
    public int PerCallerPerMinute { get; set; } = 600;
    /// <summary>How long refusals for a flooding host are counted before the channel gets one line about them.</summary>
    public TimeSpan FloodReportAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Start-up checks; each problem names its key. Token values are never echoed.</summary>
    public IEnumerable<string> Validate()
    {
        for (var i = 0; i < Tokens.Count; i++)
        {
            var t = Tokens[i];
            if (string.IsNullOrWhiteSpace(t.Token))
                yield return $"Intake:Tokens:{i}:Token is empty";
            else if (t.Token.Length < 16)
                yield return $"Intake:Tokens:{i}:Token is shorter than 16 characters; use a long random string (openssl rand -hex 24)";
            else if (t.Token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                yield return $"Intake:Tokens:{i}:Token must not contain spaces or control characters";
            foreach (var h in t.Hosts)
                if (string.IsNullOrWhiteSpace(h) || h.Any(char.IsWhiteSpace))
                    yield return $"Intake:Tokens:{i}:Hosts: '{h}' is not a host name or pattern";
        }
        for (var i = 0; i < AllowedNetworks.Count; i++)
            if (!System.Net.IPNetwork.TryParse(AllowedNetworks[i], out _))
                yield return $"Intake:AllowedNetworks:{i}: '{AllowedNetworks[i]}' is not a CIDR range like 10.0.0.0/8";
        if (PerHostBurst < 1 || PerHostPerMinute < 1)
            yield return "Intake:PerHostBurst and Intake:PerHostPerMinute must be at least 1";
        if (PerCallerBurst < 1 || PerCallerPerMinute < 1)
            yield return "Intake:PerCallerBurst and Intake:PerCallerPerMinute must be at least 1";
        if (TcpMaxConnections < 1 || TcpMaxConnectionsPerAddress < 1)
            yield return "Intake:TcpMaxConnections and Intake:TcpMaxConnectionsPerAddress must be at least 1";
        if (TcpFirstLineTimeout <= TimeSpan.Zero || TcpIdleTimeout <= TimeSpan.Zero)
            yield return "Intake:TcpFirstLineTimeout and Intake:TcpIdleTimeout must be positive";
        if (ConnectionThreads is < 0 or > 64)
            yield return "Intake:ConnectionThreads must be between 0 (off) and 64";
        if (FloodReportAfter <= TimeSpan.Zero)
            yield return "Intake:FloodReportAfter must be positive";
    }
}

/// <summary>One intake token; <see cref="Name"/> is what logs show instead of the secret.</summary>
public sealed class IntakeToken
{
    public string Name { get; set; } = "";
    public string Token { get; set; } = "";
    public List<string> Hosts { get; set; } = [];

    // Never let a token reach a log line through ToString().
    public override string ToString() => $"intake token '{Name}'";
}
