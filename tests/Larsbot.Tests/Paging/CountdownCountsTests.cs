using Dapper;
using Larsbot.Intake;
using Larsbot.Paging;
using Larsbot.Storage;
using Larsbot.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Larsbot.Tests.Paging;

/// <summary>
/// A countdown's counts (how many alerts, how many still unresolved, from how many hosts, and the first of them) are
/// kept on it as the engine joins, reopens and resolves its alerts, not counted from its alerts at every tick: in a
/// storm one count over 142,547 alerts held the writer 125-165 ms. They must always equal what counting would give.
/// </summary>
public class CountdownCountsTests
{
    // What the counts stand for, counted the old way from the alerts (its own by countdown_id, and reopened ones).
    private const string Members = "(a.countdown_id = c.id OR a.id IN (SELECT r.alert_id FROM countdown_reopens r WHERE r.countdown_id = c.id))";
    private const string CountedSql = $"""
        SELECT c.id, c.alert_count, c.unresolved_count, c.host_count, COALESCE(c.first_alert_id, 0) AS first_alert_id,
               (SELECT COUNT(*) FROM alerts a WHERE {Members}) AS alerts,
               (SELECT COUNT(*) FROM alerts a WHERE a.resolved_at IS NULL AND {Members}) AS unresolved,
               (SELECT COUNT(DISTINCT a.host) FROM alerts a WHERE {Members}) AS hosts,
               COALESCE((SELECT MIN(a.id) FROM alerts a WHERE {Members}), 0) AS first
        FROM countdowns c ORDER BY c.id
        """;

    private sealed class Counted
    {
        public long Id { get; set; }
        public long AlertCount { get; set; }
        public long UnresolvedCount { get; set; }
        public long HostCount { get; set; }
        public long FirstAlertId { get; set; }
        public long Alerts { get; set; }
        public long Unresolved { get; set; }
        public long Hosts { get; set; }
        public long First { get; set; }
    }

    /// <summary>Every countdown's kept counts equal the counted ones; returns them (id, alerts, unresolved, hosts).</summary>
    private static async Task<List<(long Id, long Alerts, long Unresolved, long Hosts)>> AssertCountsMatchAsync(EngineHarness h)
    {
        var rows = await h.Db.ReadAsync(async c => (await c.QueryAsync<Counted>(CountedSql)).ToList());
        foreach (var r in rows)
        {
            Assert.Equal((r.Id, r.Alerts, r.Unresolved, r.Hosts, r.First), (r.Id, r.AlertCount, r.UnresolvedCount, r.HostCount, r.FirstAlertId));
        }
        return rows.Select(r => (r.Id, r.AlertCount, r.UnresolvedCount, r.HostCount)).ToList();
    }

    private static async Task KeyedAsync(EngineHarness h, string host, string key, string message = "link down")
    {
        var r = await h.Intake.AcceptAsync(new AlertInput(host, "urgent", message) { Key = key }, "test");
        Assert.True(r.Ok, r.Error);
    }

    private static async Task ResolveAsync(EngineHarness h, string key)
    {
        var r = await h.Intake.RecordEventAsync("resolve", key, null, null, "test");
        Assert.True(r.Ok, r.Error);
    }

    [Fact]
    public async Task Joins_repeats_reopens_and_resolves_keep_the_counts_equal_to_counting_the_alerts()
    {
        using var h = new EngineHarness();
        await h.TakeDutyAsync("brong", "brong");
        await KeyedAsync(h, "db1", "k1", "disk full");
        await KeyedAsync(h, "db1", "k2");
        await KeyedAsync(h, "web1", "k3");
        await h.Engine.RunDueAsync();
        Assert.Equal([(1L, 3L, 3L, 2L)], await AssertCountsMatchAsync(h));

        // A later pass joins the open countdown; a repeat (same key) counts up on its original and is no new alert.
        await KeyedAsync(h, "web2", "k4");
        await KeyedAsync(h, "db1", "k1", "disk full");
        await h.Engine.RunDueAsync();
        Assert.Equal([(1L, 4L, 4L, 3L)], await AssertCountsMatchAsync(h));
        h.Channel.Take();
        await h.AdvanceAsync(h.Options.Countdown);
        Assert.Contains(h.Channel.Take(), l => l.Contains("db1: disk full (+3 more from 3 hosts)"));

        // Resolved ones are no longer unresolved; the page stays while any is not.
        await ResolveAsync(h, "k2");
        await h.Engine.RunDueAsync();
        Assert.Equal([(1L, 4L, 3L, 3L)], await AssertCountsMatchAsync(h));

        // Acked; when ack mode ends, the three keyed alerts still open re-enter a new countdown (countdown_reopens).
        await h.AckAsync("brong");
        await h.AdvanceAsync(h.Options.AckModeFor);
        Assert.Equal([(1L, 4L, 3L, 3L), (2L, 3L, 3L, 3L)], await AssertCountsMatchAsync(h));
        h.Channel.Take();

        // A resolve counts in every countdown the alert is in; the new one stops when its last alert is resolved.
        await ResolveAsync(h, "k1");
        await ResolveAsync(h, "k3");
        await h.Engine.RunDueAsync();
        Assert.Equal([(1L, 4L, 1L, 3L), (2L, 3L, 1L, 3L)], await AssertCountsMatchAsync(h));
        Assert.Equal(CountdownState.Counting, (await h.CountdownsAsync())[1].State);
        await ResolveAsync(h, "k4");
        await h.Engine.RunDueAsync();
        Assert.Equal([(1L, 4L, 0L, 3L), (2L, 3L, 0L, 3L)], await AssertCountsMatchAsync(h));
        Assert.Contains("resolved: page #2 stopped, everything in it is resolved", h.Channel.Take());
        Assert.Equal(CountdownState.Acked, (await h.CountdownsAsync())[1].State);
    }

    [Fact]
    public async Task A_storm_over_several_passes_counts_every_alert_and_host_once()
    {
        using var h = new EngineHarness();
        await h.TakeDutyAsync("brong", "brong");
        // More than one pass can take (PagingEngine.MaxAlertsPerPass): 300 alerts from 37 hosts, each sent twice.
        for (var i = 0; i < 600; i++) await h.AlertAsync($"host{i % 300 % 37}", $"link down {i % 300}");
        await h.AdvanceAsync(TimeSpan.FromSeconds(6));
        var counts = Assert.Single(await AssertCountsMatchAsync(h));
        Assert.Equal((300L, 300L, 37L), (counts.Alerts, counts.Unresolved, counts.Hosts));
        Assert.Contains(h.Channel.Take(), l => l.Contains("host0: link down 0 (+299 more from 37 hosts)"));
    }

    [Fact]
    [Trait("Provider", "sqlite")] // SQLite's query planner: PostgreSQL plans by its own statistics
    public void The_hosts_of_a_pass_are_read_by_id_range_not_through_the_whole_countdown()
    {
        using var tmp = TempDatabase.Sqlite();
        using var db = tmp.Open();
        using var c = (SqliteConnection)db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "EXPLAIN QUERY PLAN " + PagingStore.JoinedHostsSql;
        foreach (var name in new[] { "$from", "$to", "$id" }) cmd.Parameters.AddWithValue(name, 1L);
        var plan = new List<string>();
        using (var r = cmd.ExecuteReader())
            while (r.Read()) plan.Add(r.GetString(3));
        Assert.Contains(plan, d => d.Contains("SEARCH alerts USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"));
        Assert.DoesNotContain(plan, d => d.Contains("alerts_countdown"));
    }

    [Fact]
    [Trait("Provider", "sqlite")] // SQLite's own migration 014 over a file made by 001-013; PostgreSQL's 004 runs the same SQL
    public async Task Migration_014_counts_the_countdowns_that_are_already_there()
    {
        using var tmp = TempDatabase.Sqlite();
        await using (var c = new SqliteConnection($"Data Source={tmp.Path};Pooling=False"))
        {
            await c.OpenAsync();
            await OlderSchema.ApplyBeforeAsync(c, "014");
            await c.ExecuteAsync("""
                INSERT INTO countdowns(id, started_at, page_at, state) VALUES (1, 0, 0, 'acked'), (2, 0, 0, 'counting'), (3, 0, 0, 'counting');
                INSERT INTO alerts(id, received_at, source, host, level, message, handled_at, countdown_id, resolved_at) VALUES
                    (10, 0, 't', 'db1', 'urgent', 'a', 0, 1, NULL), (11, 0, 't', 'db1', 'urgent', 'b', 0, 1, 5),
                    (12, 0, 't', 'web1', 'urgent', 'c', 0, 1, NULL), (13, 0, 't', 'web1', 'urgent', 'd', 0, 2, NULL);
                INSERT INTO countdown_reopens(countdown_id, alert_id) VALUES (2, 10), (2, 12);
                """);
        }
        var db = new Database(tmp.Path);
        db.Migrate();
        var rows = await db.ReadAsync(async c => (await c.QueryAsync<(long, long, long, long, long?)>(
            "SELECT id, alert_count, unresolved_count, host_count, first_alert_id FROM countdowns ORDER BY id")).ToList());
        Assert.Equal([(1L, 3L, 2L, 2L, (long?)10L), (2L, 3L, 3L, 2L, (long?)10L), (3L, 0L, 0L, 0L, (long?)null)], rows);
    }
}
