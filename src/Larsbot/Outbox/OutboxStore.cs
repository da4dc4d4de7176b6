using System.Data;
using Dapper;
using Larsbot.Storage;

namespace Larsbot.Outbox;

/// <summary>How a channel line goes: paging lines (alerts, countdowns, pages) ahead of chatter (replies, reminders).</summary>
public enum LineKind
{
    Paging,
    Chatter,
}

/// <summary>
/// The one outbox: every output (a channel line, the topic, an SMS, a push, a call) is a row of the pages table,
/// written in the transaction that decided it and drained by <see cref="OutboxSender"/> through one notifier per
/// channel. A line decided just before a crash is said after the restart; one that would be stale (a countdown tick)
/// carries expires_at and is dropped instead. Callers inside a transaction use the static methods; callers outside
/// one (command replies, ledger reminders) use <see cref="SayAsync(string, LineKind, CancellationToken)"/>.
/// </summary>
public sealed class OutboxStore(Database db, TimeProvider time)
{
    /// <summary>The outbox row channel of lines and topic changes.</summary>
    public const string IrcChannel = "irc";

    /// <summary>Wakes the sender: rows were written.</summary>
    public Signal Wake { get; } = new();

    /// <summary>Says <paramref name="lines"/> in the channel, in order, in one transaction of their own.</summary>
    public async Task SayAsync(IReadOnlyList<string> lines, LineKind kind = LineKind.Chatter, CancellationToken ct = default)
    {
        if (lines.Count == 0) return;
        var now = time.GetUtcNow();
        await db.WriteAsync(async (c, tx) =>
        {
            foreach (var line in lines) await SayAsync(c, tx, now, line, kind);
        }, ct);
        Wake.Set();
    }

    public Task SayAsync(string line, LineKind kind = LineKind.Chatter, CancellationToken ct = default) => SayAsync([line], kind, ct);

    private const string InsertLineSql = """
        INSERT INTO outbox(countdown_id, stage, person_id, channel, destination, title, body, created_at, state, next_attempt_at, expires_at)
        VALUES (@countdownId, @stage, NULL, 'irc', 'channel', @title, @body, @now, 'due', @now, @expiresAt)
        """;

    /// <summary>
    /// One channel line, in <paramref name="tx"/>. A line tied to a countdown (<paramref name="countdownId"/>) is purged
    /// when the countdown closes before it is said; one with <paramref name="expiresAt"/> is dropped once that passes.
    /// </summary>
    public static Task SayAsync(IDbConnection c, IDbTransaction tx, DateTimeOffset now, string line, LineKind kind = LineKind.Paging,
        long? countdownId = null, DateTimeOffset? expiresAt = null) =>
        c.ExecuteAsync(InsertLineSql, new
        {
            countdownId, stage = countdownId is null ? "line" : "tick", title = kind == LineKind.Paging ? "paging" : "chatter",
            body = line, now = UnixMs.From(now), expiresAt = expiresAt is { } e ? UnixMs.From(e) : (long?)null,
        }, tx);

    /// <summary>
    /// A page to one person by one channel (sms, push, call), in <paramref name="tx"/>. ON CONFLICT DO NOTHING: the UNIQUE key
    /// (countdown, stage, person, channel) makes deciding the same page again a no-op rather than a second page.
    /// True when it was new.
    /// </summary>
    public static async Task<bool> PageAsync(IDbConnection c, IDbTransaction tx, DateTimeOffset now, long countdownId, string stage,
        string personId, string channel, string destination, string title, string body) =>
        await c.ExecuteAsync("""
            INSERT INTO outbox(countdown_id, stage, person_id, channel, destination, title, body, created_at, state, next_attempt_at)
            VALUES (@countdownId, @stage, @personId, @channel, @destination, @title, @body, @now, 'due', @now)
            ON CONFLICT DO NOTHING
            """, new { countdownId, stage, personId, channel, destination, title, body, now = UnixMs.From(now) }, tx) > 0;

    /// <summary>What the provider reported later about a page's delivery (only ever moved forward by the caller).</summary>
    public static Task RecordDeliveryAsync(IDbConnection c, IDbTransaction tx, long pageId, string state, string? errorCode, long atMs) =>
        c.ExecuteAsync("UPDATE outbox SET delivery_state = @state, delivery_error = @errorCode, delivery_at = @at WHERE id = @pageId",
            new { pageId, state, errorCode, at = atMs }, tx);

    /// <summary>
    /// Channel lines said (or dropped) before <paramref name="before"/> are deleted with their attempts, a batch at a
    /// time: they are the bulk of the table and nothing reads them once said. Pages to people stay (the ledger and the
    /// status page read them). Returns how many lines went.
    /// </summary>
    public async Task<int> PruneLinesAsync(DateTimeOffset before, int batch = 5000, CancellationToken ct = default)
    {
        var total = 0;
        while (true)
        {
            var n = await db.WriteAsync(async (c, tx) =>
            {
                // The batch is the oldest said lines up to an id: both deletes name it the same way on either database.
                var last = await c.ExecuteScalarAsync<long?>("""
                    SELECT MAX(id) FROM (SELECT id FROM outbox WHERE channel = 'irc' AND state IN ('sent', 'purged', 'failed') AND created_at < @before
                    ORDER BY id LIMIT @batch) AS batch
                    """, new { before = UnixMs.From(before), batch }, tx);
                if (last is null) return 0;
                var args = new { before = UnixMs.From(before), last };
                await c.ExecuteAsync("""
                    DELETE FROM page_attempts WHERE page_id IN (SELECT id FROM outbox WHERE channel = 'irc'
                      AND state IN ('sent', 'purged', 'failed') AND created_at < @before AND id <= @last)
                    """, args, tx);
                return await c.ExecuteAsync(
                    "DELETE FROM outbox WHERE channel = 'irc' AND state IN ('sent', 'purged', 'failed') AND created_at < @before AND id <= @last", args, tx);
            }, ct);
            total += n;
            if (n < batch) return total;
        }
    }

    internal sealed class PageFate
    {
        public string Channel { get; set; } = "";
        public string PersonId { get; set; } = "";
        public string State { get; set; } = "";
        public long At { get; set; }
    }

    /// <summary>
    /// Each page's last known state for `lars status`: "sms brong delivered 03:11:07, push brong sent 03:11:05" (UTC),
    /// the provider's delivery report where there is one, else the outbox state. Null when nothing was paged yet.
    /// </summary>
    public static async Task<string?> FatesAsync(IDbConnection c, long countdownId)
    {
        var fates = (await c.QueryAsync<PageFate>("""
            SELECT channel, person_id, COALESCE(delivery_state, state) AS state, COALESCE(delivery_at, sent_at, created_at) AS at
            FROM pages WHERE countdown_id = @countdownId AND stage <> 'followup' ORDER BY id
            """, new { countdownId })).ToList();
        if (fates.Count == 0) return null;
        const int shown = 8;
        return string.Join(", ", fates.Take(shown).Select(f =>
                   $"{f.Channel} {f.PersonId} {f.State} {UnixMs.To(f.At).ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)}")) +
               (fates.Count > shown ? $" (+{fates.Count - shown} more)" : "");
    }

    /// <summary>Pages waiting to be tried again after a provider failure.</summary>
    public static Task<long> RetryingAsync(IDbConnection c) =>
        c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM pages WHERE state = 'due' AND attempts > 0");

    /// <summary>One e-mail (the info digest), in <paramref name="tx"/>: to the comma-separated <paramref name="recipients"/>.</summary>
    public static Task EmailAsync(IDbConnection c, IDbTransaction tx, DateTimeOffset now, string recipients, string subject, string text) =>
        c.ExecuteAsync("""
            INSERT INTO outbox(countdown_id, stage, person_id, channel, destination, title, body, created_at, state, next_attempt_at)
            VALUES (NULL, 'digest', NULL, 'email', @recipients, @subject, @text, @now, 'due', @now)
            """, new { recipients, subject, text, now = UnixMs.From(now) }, tx);

    /// <summary>
    /// The topic the channel should carry, in <paramref name="tx"/>: a topic change not yet made is superseded, and
    /// the same topic as the last one decided is not written again unless <paramref name="force"/> (after a rejoin,
    /// so the IRC client of this process knows what to keep). True when a row was written.
    /// </summary>
    public static async Task<bool> SetTopicAsync(IDbConnection c, IDbTransaction tx, DateTimeOffset now, string topic, bool force = false)
    {
        if (!force && await LastTopicAsync(c, tx) == topic) return false;
        await c.ExecuteAsync("UPDATE outbox SET state = 'purged' WHERE stage = 'topic' AND state = 'due'", transaction: tx);
        await c.ExecuteAsync("""
            INSERT INTO outbox(countdown_id, stage, person_id, channel, destination, title, body, created_at, state, next_attempt_at)
            VALUES (NULL, 'topic', NULL, 'irc', 'channel', 'topic', @topic, @now, 'due', @now)
            """, new { topic, now = UnixMs.From(now) }, tx);
        return true;
    }

    /// <summary>The topic last decided (null: none yet), whether or not it has been set on the channel.</summary>
    public static Task<string?> LastTopicAsync(IDbConnection c, IDbTransaction? tx) =>
        c.ExecuteScalarAsync<string?>(
            "SELECT body FROM outbox WHERE stage = 'topic' AND state <> 'purged' ORDER BY id DESC LIMIT 1", transaction: tx);

    /// <summary>
    /// A countdown was acked or resolved, in <paramref name="tx"/>: every page and tick of it not yet started is purged
    /// (follow-ups excepted: they are about the closing); one on the wire is marked cancelled, so it is neither retried
    /// nor resent after a crash, and its emergency receipt is cancelled when it comes back; emergency pushes already
    /// sent are queued for cancelling. Returns how many pages (not lines) were purged.
    /// </summary>
    public static async Task<int> CancelCountdownAsync(IDbConnection c, IDbTransaction tx, long countdownId, DateTimeOffset now)
    {
        var nowMs = UnixMs.From(now);
        var purged = await c.ExecuteAsync(
            "UPDATE outbox SET state = 'purged' WHERE countdown_id = @countdownId AND state = 'due' AND stage <> 'followup' AND channel <> 'irc'",
            new { countdownId }, tx);
        await c.ExecuteAsync("UPDATE outbox SET state = 'purged' WHERE countdown_id = @countdownId AND state = 'due' AND channel = 'irc'", new { countdownId }, tx);
        await c.ExecuteAsync(
            "UPDATE outbox SET cancelled_at = @now WHERE countdown_id = @countdownId AND state = 'sending' AND stage <> 'followup' AND cancelled_at IS NULL",
            new { countdownId, now = nowMs }, tx);
        await c.ExecuteAsync(ReceiptCancels.QueueForCountdownSql, new { countdownId, now = nowMs }, tx);
        return purged;
    }
}
