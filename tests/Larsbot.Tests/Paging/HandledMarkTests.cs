using Dapper;
using Larsbot.Intake;
using Larsbot.Paging;
using Larsbot.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Larsbot.Tests.Paging;

/// <summary>
/// The engine finds its fresh alerts above its handled mark (Paging/HandledMark.cs), not from an index of unhandled
/// alerts: whatever the mix, every alert is handled once, and a restart goes on from the mark it wrote down. Both
/// providers (on PostgreSQL the mark stays 0 and the index does the work).
/// </summary>
public sealed class HandledMarkTests
{
    private static Task<long> UnhandledAsync(EngineHarness h) =>
        h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM alerts WHERE handled_at IS NULL"));

    private static Task<string?> DispositionAsync(EngineHarness h, long id) =>
        h.Db.ReadAsync(c => c.ExecuteScalarAsync<string?>("SELECT disposition FROM alerts WHERE id = @id", new { id }));

    [Fact]
    public async Task Alerts_behind_a_long_run_of_recorded_ones_and_past_a_full_slice_are_all_handled()
    {
        using var h = new EngineHarness();
        // The urgent alert holds the mark below it, so the info after it cannot be skipped at intake: the engine
        // reads through them, more than one window (HandledMark.Window) of them.
        var urgent = await h.AlertAsync("db1", "disk full");
        for (var i = 0; i < HandledMark.Window + 900; i++) await h.AlertAsync("web1", $"backup {i} done", "info");
        var irc = await h.AlertAsync("web2", "cert expires in 20 days", "irc");
        // More than one pass takes (PagingEngine.MaxAlertsPerPass), keyed so each is its own.
        var keyed = new List<long>();
        for (var i = 0; i < PagingEngine.MaxAlertsPerPass + 40; i++)
        {
            var r = await h.Intake.AcceptAsync(new AlertInput($"app{i}", "irc", "queue slow") { Key = $"queue-{i}" }, "test");
            Assert.True(r.Ok, r.Error);
            keyed.Add(r.Id!.Value);
        }
        Assert.NotEqual(0, await UnhandledAsync(h));

        await h.AdvanceAsync(TimeSpan.FromSeconds(1));

        Assert.Equal(0, await UnhandledAsync(h));
        Assert.Equal("countdown", await DispositionAsync(h, urgent));
        Assert.Equal("announced", await DispositionAsync(h, irc));
        Assert.Equal(keyed.Count, await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM alerts WHERE dedup_key LIKE 'queue-%' AND disposition = 'announced'")));
        var top = await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT MAX(id) FROM alerts"));
        Assert.Equal(h.Db.IsPostgres ? 0 : top, h.Engine.Mark.Id);
    }

    [Fact]
    public async Task The_host_gives_the_engine_intake_and_the_digest_one_mark()
    {
        // Separate marks would still be correct (each a lower bound), but intake's skip past recorded info would be
        // lost on the engine, and the key-scope check and the digest would read on from where they started.
        using var db = new TempDatabase();
        var settings = db.Settings();
        settings["Roster:Path"] = System.IO.Path.Combine(RepoPaths.Root, "roster.sample.json");
        settings["Intake:TcpPort"] = "-1";
        await using var app = Larsbot.Hosting.LarsbotHost.Build([], configFile: null, overrides: settings);
        var mark = app.Services.GetRequiredService<PagingEngine>().Mark;
        Assert.Same(mark, app.Services.GetRequiredService<AlertBatcher>().Mark);
        Assert.Same(mark, app.Services.GetRequiredService<AlertIntake>().Mark);
        Assert.Same(mark, app.Services.GetRequiredService<Larsbot.Email.EmailDigest>().Mark);
    }

    [Fact]
    public async Task A_restart_reads_on_from_the_mark_it_wrote_and_handles_nothing_twice()
    {
        using var db = new TempDatabase();
        long first, second;
        using (var h = new EngineHarness(db))
        {
            first = await h.AlertAsync("web1", "slow", "irc");
            await h.Engine.RunDueAsync(); // the first pass writes the mark down
            h.Clock.Advance(TimeSpan.FromMilliseconds(100));
            second = await h.AlertAsync("web2", "slow", "irc");
            await h.Engine.RunDueAsync(); // within the second: moved in memory only
            Assert.Equal(0, await UnhandledAsync(h));
            Assert.Equal(h.Db.IsPostgres ? 0 : second, h.Engine.Mark.Id);
            Assert.Equal(["irc web1 - slow", "irc web2 - slow"], h.Channel.Lines.Where(l => l.StartsWith("irc ")));
        }
        var written = (db.ConnectionString is not null) ? 0 : await db.ScalarAsync<long>("SELECT alert_id FROM handled_mark");
        Assert.Equal((db.ConnectionString is not null) ? 0 : first, written);
        var secondHandledAt = await db.ScalarAsync<long>("SELECT handled_at FROM alerts WHERE id = @second", new { second });

        using (var h = new EngineHarness(db, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(EngineHarness.T0 + TimeSpan.FromMinutes(1))))
        {
            Assert.Equal(written, h.Engine.Mark.Id);
            var third = await h.AlertAsync("web3", "slow", "irc");
            await h.Engine.RunDueAsync();
            Assert.Equal(0, await UnhandledAsync(h));
            Assert.Equal("announced", await DispositionAsync(h, third));
            Assert.Equal(h.Db.IsPostgres ? 0 : third, h.Engine.Mark.Id);
            // The second alert, above the written mark, is looked at again after the restart but not said again.
            Assert.Equal(["irc web3 - slow"], h.Channel.Lines.Where(l => l.StartsWith("irc ")));
        }
        Assert.Equal(secondHandledAt, await db.ScalarAsync<long>("SELECT handled_at FROM alerts WHERE id = @second", new { second }));
    }
}
