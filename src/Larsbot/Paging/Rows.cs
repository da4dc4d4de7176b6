namespace Larsbot.Paging;

// Plain row shapes for Dapper (snake_case columns map through MatchNamesWithUnderscores).

public sealed class AlertRow
{
    public long Id { get; set; }
    public long ReceivedAt { get; set; }
    public string Source { get; set; } = "";
    public string Host { get; set; } = "";
    public string Level { get; set; } = "";
    public string Message { get; set; } = "";
    public long? HandledAt { get; set; }
    public string? Disposition { get; set; }
    public long? CountdownId { get; set; }
    public string? DedupKey { get; set; }
    public long? DuplicateOf { get; set; }
    public long Repeats { get; set; }
    public long? ResolvedAt { get; set; }
    /// <summary>Only in the engine's fresh-alert query: the handled open alert this one repeats, if any.</summary>
    public long? HandledOriginal { get; set; }
    /// <summary>Only in the engine's fresh-alert query: that original's countdown, if it is in one.</summary>
    public long? HandledOriginalCountdown { get; set; }
}

/// <summary>A countdown's life (countdowns.state): counting down, first page sent, everybody paged, acked or resolved.</summary>
public enum CountdownState
{
    Counting,
    Paged,
    Escalated,
    /// <summary>Closed: acked by a person, or every alert in it resolved (resolved_at set).</summary>
    Acked,
}

public sealed class CountdownRow
{
    public long Id { get; set; }
    public long StartedAt { get; set; }
    public long PageAt { get; set; }
    public long? EscalateAt { get; set; }
    public CountdownState State { get; set; }
    public string? DutyPerson { get; set; }
    public long LastTick { get; set; }
    public long? PagedAt { get; set; }
    public long? EscalatedAt { get; set; }
    public long? AckId { get; set; }
}

public sealed class AckModeRow
{
    public long Id { get; set; }
    public long StartedAt { get; set; }
    public long EndsAt { get; set; }
    public long AckId { get; set; }
    public long? EndedAt { get; set; }
}

public sealed class AlertEventRow
{
    public long Id { get; set; }
    public long ReceivedAt { get; set; }
    public string Source { get; set; } = "";
    public string Kind { get; set; } = "";
    public string? DedupKey { get; set; }
    public string? Host { get; set; }
    public string? Message { get; set; }
}
