namespace Larsbot.Outbox;

/// <summary>
/// How the outbox retries. Bound from the Paging section (Paging:RetryFor, Paging:RetryMinDelay, Paging:RetryMaxDelay),
/// where these settings have always been.
/// </summary>
public sealed class OutboxOptions
{
    /// <summary>How long a page keeps being retried before it is given up (and said as FAILED).</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromHours(1);
    public TimeSpan RetryMinDelay { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Channel lines are kept this long after they were decided (Paging:KeepChannelLinesFor), then deleted.</summary>
    public TimeSpan KeepChannelLinesFor { get; set; } = TimeSpan.FromDays(7);

    public IEnumerable<string> Validate()
    {
        if (RetryMinDelay <= TimeSpan.Zero || RetryMaxDelay < RetryMinDelay)
            yield return "Paging:RetryMinDelay must be more than zero and at most Paging:RetryMaxDelay";
        if (RetryFor <= TimeSpan.Zero) yield return "Paging:RetryFor must be more than zero";
        if (KeepChannelLinesFor < TimeSpan.FromHours(1)) yield return "Paging:KeepChannelLinesFor must be at least an hour";
    }
}

/// <summary>Told when a page was accepted by its provider (a delivery report may have overtaken that answer).</summary>
public interface ISentObserver
{
    Task SentAsync(string providerId, CancellationToken ct = default);
}
