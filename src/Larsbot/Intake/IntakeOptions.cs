namespace Larsbot.Intake;

/// <summary>Bound from "Intake".</summary>
public sealed class IntakeOptions
{
    /// <summary>Where HTTP intake, /health and later /metrics listen. Loopback by default: nothing is exposed until you say so.</summary>
    public string HttpUrl { get; set; } = "http://127.0.0.1:8080";
    /// <summary>Line-based TCP intake ("LEVEL host message"); 0 picks a free port (tests), -1 turns it off.</summary>
    public int TcpPort { get; set; } = 7777;
    public string TcpAddress { get; set; } = "127.0.0.1";
    /// <summary>Largest HTTP body or TCP line accepted, in bytes.</summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024;
    /// <summary>A TCP client silent this long is disconnected, so idle sockets cannot pile up.</summary>
    public TimeSpan TcpIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);
    public int TcpMaxConnections { get; set; } = 256;
}
