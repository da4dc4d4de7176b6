namespace Larsbot.Watchdog;

/// <summary>Bound from "Arbiter" (command-line --target and --every override Target and Every).</summary>
public sealed class ArbiterOptions
{
    /// <summary>The bot's health URL, e.g. http://larsbot.internal:8080/health ("/health" is added when no path is given).</summary>
    public string? Target { get; set; }
    public TimeSpan Every { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>Failed checks in a row before everybody is paged: one lost packet must not wake the team.</summary>
    public int FailuresBeforePage { get; set; } = 2;
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Names this watchdog in its pages, so people know which vantage point saw the outage.</summary>
    public string Name { get; set; } = Environment.MachineName;
}
