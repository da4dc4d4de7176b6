namespace Larsbot.Paging;

/// <summary>Bound from "Paging". Defaults are FastMail's: 30 s countdown, a line every 5 s, everybody after 5 min.</summary>
public sealed class PagingOptions
{
    public TimeSpan Countdown { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan TickEvery { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>From the first page to paging everybody, if nobody has acked.</summary>
    public TimeSpan EscalateAfter { get; set; } = TimeSpan.FromMinutes(5);
    public TimeSpan AckModeFor { get; set; } = TimeSpan.FromMinutes(30);
    /// <summary>A page that keeps failing is retried this long, then marked failed (and said in the channel).</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromHours(1);
    public TimeSpan RetryMinDelay { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(2);

    public IEnumerable<string> Validate()
    {
        if (Countdown <= TimeSpan.Zero) yield return "Paging:Countdown must be more than zero";
        if (TickEvery <= TimeSpan.Zero) yield return "Paging:TickEvery must be more than zero";
        if (EscalateAfter <= TimeSpan.Zero) yield return "Paging:EscalateAfter must be more than zero";
        if (AckModeFor <= TimeSpan.Zero) yield return "Paging:AckModeFor must be more than zero";
        if (RetryMinDelay <= TimeSpan.Zero || RetryMaxDelay < RetryMinDelay)
            yield return "Paging:RetryMinDelay must be more than zero and at most Paging:RetryMaxDelay";
    }
}
