using Dapper;
using Larsbot.Paging;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Paging;

/// <summary>
/// The handled mark's own rules on SQLite, where it is used: it moves only past alerts that are handled, a failed pass
/// leaves it where it was, intake moves it past alerts it records itself, it is never read above the newest alert, and
/// the migration that brings it puts it below the first unhandled alert.
/// </summary>
[Trait("Provider", "sqlite")]
public sealed class HandledMarkSqliteTests : IDisposable
{
    private readonly TempDatabase _db = TempDatabase.Sqlite();

    public void Dispose() => _db.Dispose();

    private Task<long> TopAsync() => _db.ScalarAsync<long>("SELECT MAX(id) FROM alerts");

    [Fact]
    public async Task Info_recorded_right_after_the_mark_moves_it_at_intake_and_nothing_else_does()
    {
        using var h = new EngineHarness(_db);
        await h.AlertAsync("web1", "slow", "irc");
        await h.Engine.RunDueAsync();
        Assert.Equal(await TopAsync(), h.Engine.Mark.Id);
        var passes = h.Engine.Passes;

        await h.AlertAsync("backup1", "nightly done", "info");
        var lastInfo = await h.AlertAsync("backup2", "nightly done", "info");
        Assert.Equal(lastInfo, h.Engine.Mark.Id); // handled as they were stored: no pass needed
        var urgent = await h.AlertAsync("db1", "disk full");
        var afterUrgent = await h.AlertAsync("backup3", "nightly done", "info");
        Assert.Equal(lastInfo, h.Engine.Mark.Id); // the urgent one waits for the engine, and so the mark
        var keyedInfo = await h.Intake.AcceptAsync(new Larsbot.Intake.AlertInput("batch1", "info", "job done") { Key = "job-1" }, "test");
        Assert.Equal(lastInfo, h.Engine.Mark.Id); // keyed info is deduplicated by the engine: not handled at intake
        Assert.Equal(passes, h.Engine.Passes);

        await h.Engine.RunDueAsync();
        Assert.Equal(keyedInfo.Id, h.Engine.Mark.Id);
        Assert.Equal(0, await _db.ScalarAsync<long>("SELECT COUNT(*) FROM alerts WHERE handled_at IS NULL"));
        Assert.Equal("countdown", await _db.ScalarAsync<string>("SELECT disposition FROM alerts WHERE id = @urgent", new { urgent }));
        Assert.True(afterUrgent < keyedInfo.Id);
    }

    [Fact]
    public async Task A_flood_of_info_from_many_senders_at_once_keeps_the_mark_at_the_newest_alert()
    {
        // Group commit: many commits back to back, each moving the mark past its own alerts. Moved after the write
        // gate was let go, a later commit's move could come first and fail its compare, and the mark would stop for
        // good while info kept arriving (seen in a full benchmark run: the engine then read through every one).
        using var h = new EngineHarness(_db);
        await h.AlertAsync("web1", "slow", "irc");
        await h.Engine.RunDueAsync();
        var passes = h.Engine.Passes;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(s => Task.Run(async () =>
        {
            for (var i = 0; i < 250; i++)
                Assert.True((await h.Intake.AcceptAsync(new Larsbot.Intake.AlertInput($"host{s}", "info", $"job {i} done"), "test")).Ok);
        })));
        Assert.Equal(passes, h.Engine.Passes);
        Assert.Equal(4001, await _db.ScalarAsync<long>("SELECT COUNT(*) FROM alerts"));
        Assert.Equal(await TopAsync(), h.Engine.Mark.Id);
    }

    [Fact]
    public async Task A_pass_that_fails_leaves_the_mark_and_its_alerts_for_the_next()
    {
        using var h = new EngineHarness(_db);
        await h.AlertAsync("web1", "slow", "irc");
        await h.Engine.RunDueAsync();
        var mark = h.Engine.Mark.Id;
        var fine = await h.AlertAsync("web2", "slow", "irc");
        var failing = await h.AlertAsync("web3", "slow", "irc");
        // The disk refuses the pass's write of one alert: the whole pass is rolled back.
        await _db.ExecuteAsync("CREATE TRIGGER refuse BEFORE UPDATE OF handled_at ON alerts WHEN NEW.host = 'web3' BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => h.Engine.RunDueAsync());
        Assert.Equal(mark, h.Engine.Mark.Id);
        Assert.Equal(2, await _db.ScalarAsync<long>("SELECT COUNT(*) FROM alerts WHERE handled_at IS NULL"));

        await _db.ExecuteAsync("DROP TRIGGER refuse");
        await h.Engine.RunDueAsync();
        Assert.Equal(failing, h.Engine.Mark.Id);
        Assert.Equal(["announced", "announced"], await _db.QueryAsync<string>(
            "SELECT disposition FROM alerts WHERE id IN (@fine, @failing) ORDER BY id", new { fine, failing }));
    }

    [Fact]
    public async Task The_mark_is_never_read_above_the_newest_alert()
    {
        using (var h = new EngineHarness(_db))
        {
            await h.AlertAsync("web1", "slow", "irc");
            await h.Engine.RunDueAsync();
        }
        // As if the newest alerts had been removed by hand: SQLite would hand their ids out again.
        await _db.ExecuteAsync("UPDATE handled_mark SET alert_id = 1000000");
        using (var h = new EngineHarness(_db))
        {
            Assert.Equal(await TopAsync(), h.Engine.Mark.Id);
            var next = await h.AlertAsync("web2", "slow", "irc");
            await h.Engine.RunDueAsync();
            Assert.Equal("announced", await _db.ScalarAsync<string>("SELECT disposition FROM alerts WHERE id = @next", new { next }));
        }
    }

    [Fact]
    public async Task The_migration_puts_the_mark_just_below_the_first_unhandled_alert()
    {
        using (var h = new EngineHarness(_db)) { }
        Assert.Equal(0, await _db.ScalarAsync<long>("SELECT alert_id FROM handled_mark")); // a new database
        // Back to the schema before migration 015, with a history: handled alerts, then unhandled ones among handled.
        await _db.ExecuteAsync("""
            DROP TABLE handled_mark;
            CREATE INDEX alerts_unhandled ON alerts(id) WHERE handled_at IS NULL;
            DELETE FROM schema_migrations WHERE version = 15;
            INSERT INTO alerts(id, received_at, source, host, level, message, handled_at, disposition) VALUES
                (1, 1, 't', 'a', 'irc', 'm', 2, 'announced'), (2, 1, 't', 'b', 'info', 'm', 1, 'recorded'),
                (3, 1, 't', 'c', 'urgent', 'm', NULL, NULL), (4, 1, 't', 'd', 'info', 'm', 1, 'recorded'),
                (5, 1, 't', 'e', 'irc', 'm', NULL, NULL);
            """);
        using var db = _db.Open(); // migrates
        Assert.Equal(2, await _db.ScalarAsync<long>("SELECT alert_id FROM handled_mark"));
        Assert.Equal(0, await _db.ScalarAsync<long>("SELECT COUNT(*) FROM sqlite_master WHERE name = 'alerts_unhandled'"));
        // With none unhandled, the newest alert.
        await _db.ExecuteAsync("""
            DROP TABLE handled_mark;
            CREATE INDEX alerts_unhandled ON alerts(id) WHERE handled_at IS NULL;
            DELETE FROM schema_migrations WHERE version = 15;
            UPDATE alerts SET handled_at = 3, disposition = 'announced' WHERE handled_at IS NULL;
            """);
        using var again = _db.Open();
        Assert.Equal(5, await _db.ScalarAsync<long>("SELECT alert_id FROM handled_mark"));
    }
}
