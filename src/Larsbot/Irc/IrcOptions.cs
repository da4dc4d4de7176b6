namespace Larsbot.Irc;

/// <summary>How the bot reaches IRC. Bound from the "Irc" configuration section.</summary>
public sealed class IrcOptions
{
    public string Server { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 6667;
    public bool Tls { get; set; }
    /// <summary>Accept any server certificate (self-signed test servers). Never the default.</summary>
    public bool TlsAcceptAnyCertificate { get; set; }
    public string Nick { get; set; } = "Lars_Botlesen";
    public string User { get; set; } = "larsbot";
    public string RealName { get; set; } = "Larsbot on-call pager";
    /// <summary>Server password (PASS), if the server wants one.</summary>
    public string? Password { get; set; }
    public string Channel { get; set; } = "#ops";
    /// <summary>Log the bot in to services with SASL PLAIN (needs <see cref="Tls"/>: the password would cross in clear).</summary>
    public string? SaslAccount { get; set; }
    /// <summary>Never logged; prefer the LARSBOT_Irc__SaslPassword environment variable to the config file.</summary>
    public string? SaslPassword { get; set; }
    /// <summary>Lines that may go out back to back before the throttle starts spacing them.</summary>
    public int FloodBurst { get; set; } = 4;
    /// <summary>Spacing between lines once the burst is used up (servers allow ~1 line/s).</summary>
    public TimeSpan FloodInterval { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>First reconnect delay; doubles up to <see cref="ReconnectMaxDelay"/>, with jitter.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromSeconds(1);
    // 20 s, not the customary 5 min: a pager must be back in the channel within 30 s of the server returning.
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(20);
    /// <summary>After this much silence from the server we PING it; twice this and we reconnect.</summary>
    public TimeSpan PingIdle { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Most lines one <see cref="IChannel.Say"/> may become; the last is cut with "…". A 40 KB stack trace in an
    /// alert must not hold the channel (and the throttle) for minutes.
    /// </summary>
    public int MaxLinesPerMessage { get; set; } = 4;
    /// <summary>Lines kept while disconnected (or waiting on the throttle); beyond this the oldest are dropped.</summary>
    public int SayQueueLimit { get; set; } = 100;
    /// <summary>Wait before rejoining after a KICK (or a refused JOIN), so we do not fight a kicking operator.</summary>
    public TimeSpan RejoinDelay { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>How often to try to take back the configured nick while running under an alternate.</summary>
    public TimeSpan NickRegainInterval { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>Limit on TCP connect plus TLS handshake.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws for settings that would break the protocol or leak a secret; values are never echoed.</summary>
    internal static void Validate(IrcOptions options)
    {
        static bool Unsafe(string? s) => string.IsNullOrEmpty(s) || s.AsSpan().IndexOfAny(" \r\n\0,") >= 0;
        if (Unsafe(options.Nick))
            throw new ArgumentException("Irc:Nick must be non-empty without spaces, commas or line breaks.", nameof(options));
        if (Unsafe(options.User))
            throw new ArgumentException("Irc:User must be non-empty without spaces, commas or line breaks.", nameof(options));
        if (Unsafe(options.Channel) || "#&+!".IndexOf(options.Channel[0]) < 0)
            throw new ArgumentException("Irc:Channel must be a channel name such as #ops.", nameof(options));
        if (options.RealName.AsSpan().IndexOfAny("\r\n\0") >= 0)
            throw new ArgumentException("Irc:RealName must not contain line breaks.", nameof(options));
        if (!string.IsNullOrEmpty(options.SaslAccount) && !options.Tls)
            throw new ArgumentException("Irc:SaslAccount needs Irc:Tls=true: SASL PLAIN would send the password in clear.", nameof(options));
        if (!string.IsNullOrEmpty(options.SaslAccount) && (Unsafe(options.SaslAccount) || string.IsNullOrEmpty(options.SaslPassword)
                || options.SaslPassword.AsSpan().IndexOfAny("\0\r\n") >= 0))
            throw new ArgumentException("Irc:SaslAccount must be one word and Irc:SaslPassword set, without NUL or line breaks.", nameof(options)); // value never echoed
        if (options.Password is { } pw && (pw.Contains(' ') || pw.AsSpan().IndexOfAny("\r\n\0") >= 0))
            throw new ArgumentException("Irc:Password must not contain spaces or line breaks.", nameof(options)); // value never echoed
        if (string.IsNullOrWhiteSpace(options.Server) || options.Port is < 1 or > 65535)
            throw new ArgumentException("Irc:Server and Irc:Port must name a reachable server.", nameof(options));
        if (options.PingIdle <= TimeSpan.Zero || options.FloodInterval < TimeSpan.Zero)
            throw new ArgumentException("Irc:PingIdle must be positive and Irc:FloodInterval not negative.", nameof(options));
    }
}
