namespace Larsbot.Outbox;

/// <summary>
/// A row of the outbox (the pages table): a page to a person (sms, push, call) or a channel line or topic (irc).
/// </summary>
public sealed class PageRow
{
    public long Id { get; set; }
    public long? CountdownId { get; set; }
    public string Stage { get; set; } = "";
    /// <summary>Null for a channel line.</summary>
    public string? PersonId { get; set; }
    public string Channel { get; set; } = "";
    public string Destination { get; set; } = "";
    public string Title { get; set; } = "";
    public string Body { get; set; } = "";
    public long CreatedAt { get; set; }
    public string State { get; set; } = "";
    public long Attempts { get; set; }
    public long NextAttemptAt { get; set; }
    public long? SentAt { get; set; }
    public string? ProviderId { get; set; }
}
