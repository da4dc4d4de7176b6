using Dapper;
using Larsbot.Storage;
using Larsbot.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Larsbot.Tests.Paging;

/// <summary>Alert storms on a fake clock: counted per host in grouped lines, one countdown and one page for the lot.</summary>
public class StormTests
{
    [Fact]
    public async Task Fifty_alerts_at_once_become_one_grouped_line_and_one_page_naming_the_counts()
    {
        using var h = new EngineHarness();
        await h.TakeDutyAsync("brong", "brong");
        h.Channel.Take();
        for (var i = 0; i < 50; i++) await h.AlertAsync($"h{i % 5}", $"down {i}");
        await h.Engine.RunDueAsync();
        Assert.Empty(h.Channel.Take());

        await h.AdvanceAsync(h.Options.StormFlushEvery);
        Assert.Equal(["URGENT 50 alerts from 5 hosts: h0 (10), h1 (10), h2 (10), h3 (10), h4 (10)"], h.Channel.Take());

        await h.AdvanceAsync(TimeSpan.FromSeconds(28));
        Assert.Single(await h.CountdownsAsync());
        var pages = await h.PagesAsync();
        Assert.Equal(2, pages.Count);
        Assert.All(pages, p => Assert.Equal("h0: down 0 (+49 more from 5 hosts)", p.Body));
        Assert.Contains(h.Channel.Take(), l => l.StartsWith("LarsSMS: paging brong (+61400000001) now: 'h0: down 0 (+49 more from 5 hosts)'"));
    }

    [Fact]
    public async Task Many_hosts_are_cut_to_one_line_with_the_rest_counted()
    {
        using var h = new EngineHarness();
        for (var i = 0; i < 400; i++) await h.AlertAsync($"web{i:D3}.example.com", "HTTP 500", i % 2 == 0 ? "urgent" : "irc");
        await h.AdvanceAsync(h.Options.StormFlushEvery);
        var said = h.Channel.Take().Where(l => !l.StartsWith("LarsSMS")).ToList();
        Assert.Equal(2, said.Count);
        Assert.StartsWith("URGENT 200 alerts from 200 hosts: web000.example.com (1), web002.example.com (1),", said[0]);
        Assert.Matches(@"\(\+\d+ more hosts\)$", said[0]);
        Assert.StartsWith("irc 200 alerts from 200 hosts: web001.example.com (1),", said[1]);
        Assert.All(said, l => Assert.True(l.Length < 400, l));
    }

    [Fact]
    public async Task A_storm_keeps_grouping_until_it_is_quiet_and_its_tail_is_said_plainly()
    {
        using var h = new EngineHarness();
        // Different texts: the same host and text again would be a repeat (counted, not announced), not a storm.
        for (var i = 0; i < 10; i++) await h.AlertAsync("db1", $"lag {i}");
        await h.AdvanceAsync(h.Options.StormFlushEvery);
        Assert.Contains("URGENT 10 alerts from 1 hosts: db1 (10)", h.Channel.Take());

        // Still within the quiet period: a single alert is held for the next flush, then said as itself.
        await h.AlertAsync("db2", "disk full");
        await h.Engine.RunDueAsync();
        Assert.DoesNotContain(h.Channel.Take(), l => l.StartsWith("URGENT"));
        await h.AdvanceAsync(h.Options.StormFlushEvery);
        Assert.Contains("URGENT db2 - disk full", h.Channel.Take());

        // Quiet for long enough: back to one line per alert, at once.
        await h.AdvanceAsync(h.Options.StormQuietAfter);
        h.Channel.Take();
        await h.AlertAsync("db3", "disk full");
        await h.Engine.RunDueAsync();
        Assert.Equal(["URGENT db3 - disk full"], h.Channel.Take());
    }

    [Fact]
    public async Task Each_grouped_line_counts_what_the_passes_announced_since_the_last_one_and_no_repeat()
    {
        using var h = new EngineHarness();
        // More than one pass takes (PagingEngine.MaxAlertsPerPass), counted as each pass handles its slice.
        for (var i = 0; i < 300; i++) await h.AlertAsync($"h{i % 3}", $"down {i}");
        await h.Engine.RunDueAsync();
        await h.Engine.RunDueAsync();
        await h.AdvanceAsync(h.Options.StormFlushEvery);
        Assert.Contains("URGENT 300 alerts from 3 hosts: h0 (100), h1 (100), h2 (100)", h.Channel.Take());

        // Repeats count up on their originals and are not announced again; the next line counts only the new ones.
        for (var i = 0; i < 10; i++) await h.AlertAsync($"h{i % 3}", $"down {i}");
        for (var i = 0; i < 30; i++) await h.AlertAsync("h0", $"late {i}");
        await h.AdvanceAsync(h.Options.StormFlushEvery);
        Assert.Contains("URGENT 30 alerts from 1 hosts: h0 (30)", h.Channel.Take());
        Assert.Equal(0, await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM storm_counts")));
    }

    [Fact]
    [Trait("Provider", "sqlite")] // SQLite's own migration 015 over a file made by 001-014; PostgreSQL's 005 runs the same SQL
    public async Task Migration_015_counts_what_an_open_storm_has_not_said_yet()
    {
        using var tmp = TempDatabase.Sqlite();
        var asm = typeof(Database).Assembly;
        await using (var c = new SqliteConnection($"Data Source={tmp.Path};Pooling=False"))
        {
            await c.OpenAsync();
            await c.ExecuteAsync("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (datetime('now')))");
            foreach (var res in asm.GetManifestResourceNames().Where(n => n.Contains(".Storage.Migrations.0") && string.CompareOrdinal(n[(n.IndexOf(".Migrations.", StringComparison.Ordinal) + 12)..], "015") < 0).Order())
            {
                using var reader = new StreamReader(asm.GetManifestResourceStream(res)!);
                await c.ExecuteAsync(await reader.ReadToEndAsync());
                var file = res[(res.IndexOf(".Migrations.", StringComparison.Ordinal) + 12)..];
                await c.ExecuteAsync("INSERT INTO schema_migrations(version, name) VALUES (@v, @file)", new { v = long.Parse(file[..3]), file });
            }
            // An open storm that has said up to alert 10 and counted through 14; one ended long ago.
            await c.ExecuteAsync("""
                INSERT INTO storms(id, started_at, flush_at, quiet_at, said_through, last_alert_id, pending, ended_at) VALUES
                    (1, 0, 0, 0, 0, 3, 0, 5), (2, 0, 0, 0, 10, 14, 4, NULL);
                INSERT INTO alerts(id, received_at, source, host, level, message, handled_at, disposition) VALUES
                    (1, 0, 't', 'db1', 'irc', 'a', 0, 'announced'), (10, 0, 't', 'db1', 'irc', 'b', 0, 'announced'),
                    (11, 0, 't', 'db1', 'irc', 'c', 0, 'announced'), (12, 0, 't', 'db1', 'urgent', 'd', 0, 'joined'),
                    (13, 0, 't', 'web1', 'irc', 'e', 0, 'announced'), (14, 0, 't', 'db1', 'irc', 'c', 0, 'repeat'),
                    (15, 0, 't', 'db1', 'irc', 'f', 0, 'announced');
                """);
        }
        var db = new Database(tmp.Path);
        db.Migrate();
        var rows = await db.ReadAsync(async c => (await c.QueryAsync<(long, string, string, long)>(
            "SELECT storm_id, grp, host, n FROM storm_counts ORDER BY storm_id, grp, host")).ToList());
        Assert.Equal([(2L, "URGENT", "db1", 1L), (2L, "irc", "db1", 1L), (2L, "irc", "web1", 1L)], rows);
    }
}
