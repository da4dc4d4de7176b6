using Dapper;
using Larsbot.Outbox;
using Larsbot.Roster;
using Larsbot.Storage;
using Microsoft.Extensions.Options;
using static Larsbot.Text.Wording;

namespace Larsbot.Paging;

/// <summary>
/// Whether people can ack in the channel, as rows (chat_outages): the IRC side reports a lost connection and every
/// (re)join here, and the engine reads it. IRC unreachable for longer than Paging:IrcDownGrace means nobody can type
/// `lars ack`, so urgent alerts page at once. Back on IRC, the channel hears what happened meanwhile.
/// </summary>
public sealed class ChatPresence(Database db, TeamRoster roster, OutboxStore outbox, EngineWake wake, TimeProvider time, IOptions<PagingOptions> options)
{
    private const string OpenOutageSql = "SELECT * FROM chat_outages WHERE ended_at IS NULL ORDER BY id LIMIT 1";

    internal sealed class OutageRow
    {
        public long Id { get; set; }
        public long StartedAt { get; set; }
        public string Kind { get; set; } = "";
    }

    /// <summary>The process starts unjoined: the grace covers the first connect. An outage left open by a crash ends here.</summary>
    public async Task StartingAsync()
    {
        var now = UnixMs.From(time.GetUtcNow());
        await db.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("UPDATE chat_outages SET ended_at = @now WHERE ended_at IS NULL", new { now }, tx);
            await c.ExecuteAsync("INSERT INTO chat_outages(started_at, kind) VALUES (@now, 'start')", new { now }, tx);
        });
        wake.Set();
    }

    /// <summary>A registered connection was lost.</summary>
    public async Task LostAsync()
    {
        var now = UnixMs.From(time.GetUtcNow());
        await db.WriteAsync(async (c, tx) =>
        {
            if (await c.QuerySingleOrDefaultAsync<OutageRow>(OpenOutageSql, transaction: tx) is null)
                await c.ExecuteAsync("INSERT INTO chat_outages(started_at, kind) VALUES (@now, 'lost')", new { now }, tx);
        });
        wake.Set();
    }

    /// <summary>Joined (again): the outage ends, the topic is given to the client again, and after a lost connection the channel hears what happened.</summary>
    public async Task BackAsync()
    {
        var now = time.GetUtcNow();
        await db.WriteAsync(async (c, tx) =>
        {
            var outage = await c.QuerySingleOrDefaultAsync<OutageRow>(OpenOutageSql, transaction: tx);
            if (outage is not null)
                await c.ExecuteAsync("UPDATE chat_outages SET ended_at = @now WHERE id = @id", new { now = UnixMs.From(now), id = outage.Id }, tx);
            await OutboxStore.SetTopicAsync(c, tx, now, await TopicModule.ComposeAsync(c, tx, roster, now), force: true);
            if (outage is { Kind: "lost" })
                await OutboxStore.SayAsync(c, tx, now, await AbsenceReportAsync(c, tx, UnixMs.To(outage.StartedAt), now), LineKind.Chatter);
        });
        outbox.Wake.Set();
        wake.Set();
    }

    /// <summary>In a pass: whether IRC has been unreachable for longer than the grace; if not yet, when it will have been.</summary>
    internal async Task<(bool Down, long? DownAt)> DownAsync(System.Data.IDbConnection c, System.Data.IDbTransaction tx, long nowMs)
    {
        var outage = await c.QuerySingleOrDefaultAsync<OutageRow>(OpenOutageSql, transaction: tx);
        if (outage is null) return (false, null);
        var downAt = outage.StartedAt + (long)options.Value.IrcDownGrace.TotalMilliseconds;
        return nowMs >= downAt ? (true, null) : (false, downAt);
    }

    /// <summary>"back on IRC after 1m 5s away: 3 alerts meanwhile (2 urgent: 'db1: disk full' +1 more); pages sent to brong, robn".</summary>
    private static async Task<string> AbsenceReportAsync(System.Data.IDbConnection c, System.Data.IDbTransaction tx, DateTimeOffset since, DateTimeOffset now)
    {
        var alerts = (await c.QueryAsync<AlertRow>("SELECT * FROM alerts WHERE received_at >= @since ORDER BY id",
            new { since = UnixMs.From(since) }, tx)).ToList();
        var paged = (await c.QueryAsync<string>(
            "SELECT DISTINCT person_id FROM pages WHERE created_at >= @since AND person_id IS NOT NULL ORDER BY person_id", new { since = UnixMs.From(since) }, tx)).ToList();
        var text = $"back on IRC after {Duration(now - since)} away: ";
        if (alerts.Count == 0 && paged.Count == 0) return text + "nothing arrived meanwhile";
        var urgent = alerts.Where(a => a.Level == "urgent").ToList();
        text += $"{alerts.Count} alert(s) meanwhile";
        if (urgent.Count > 0) text += $" ({urgent.Count} urgent: '{PagingStore.Summary(urgent)}')";
        text += paged.Count > 0 ? $"; paged {string.Join(", ", paged)} (nobody could ack here)" : "; nobody was paged";
        return text;
    }
}
