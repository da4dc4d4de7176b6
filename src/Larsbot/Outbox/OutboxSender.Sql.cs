namespace Larsbot.Outbox;

/// <summary>The sender's queries and row types (the loop is in OutboxSender.cs).</summary>
public sealed partial class OutboxSender
{
    internal sealed class InterruptedPage
    {
        public long Id { get; set; }
        public string Channel { get; set; } = "";
        public string? PersonId { get; set; }
        public bool CountdownClosed { get; set; }
    }

    // A channel line that would be stale (a countdown tick whose moment has passed) is dropped, not said late.
    private const string PurgeExpiredSql =
        "UPDATE outbox SET state = 'purged' WHERE state = 'due' AND channel = 'irc' AND expires_at IS NOT NULL AND expires_at <= @now";

    // Channel lists are passed as one comma-separated string (",sms,push,"), which reads the same in SQLite and
    // PostgreSQL: neither's list or array parameters work in the other.
    private const string ClaimableSql = """
        SELECT EXISTS (SELECT 1 FROM outbox WHERE state = 'due' AND next_attempt_at <= @now AND @open LIKE '%,' || channel || ',%')
            OR EXISTS (SELECT 1 FROM outbox WHERE state = 'due' AND next_attempt_at <= @now AND @known NOT LIKE '%,' || channel || ',%' AND channel <> 'irc')
            OR (@pushFree AND EXISTS (SELECT 1 FROM receipt_cancels WHERE state = 'due' AND next_attempt_at <= @now))
        """;

    private const string NextDueSql = """
        SELECT MIN(t) FROM (
          SELECT MIN(next_attempt_at) AS t FROM outbox WHERE state = 'due'
            AND (@open LIKE '%,' || channel || ',%' OR (@known NOT LIKE '%,' || channel || ',%' AND channel <> 'irc'))
          UNION ALL SELECT MIN(next_attempt_at) FROM receipt_cancels WHERE state = 'due' AND @pushFree) AS due
        """;

    private static string ChannelList(IEnumerable<string> channels) => "," + string.Join(",", channels) + ",";

    private const string DueOfChannelSql =
        "SELECT * FROM outbox WHERE state = 'due' AND next_attempt_at <= @now AND channel = @channel ORDER BY id LIMIT @n";
}
