using Larsbot.Setup;
using Larsbot.Storage;
using Microsoft.Extensions.DependencyInjection;
using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Reliability;

/// <summary>
/// One bot per SQLite file: a SQLite bot always leads, so a second `larsbot run` on the same file would page beside the
/// first (every page twice). It refuses to start instead, and a bot killed with -9 leaves nothing that stops the next.
/// </summary>
[Trait("Provider", "sqlite")]
public sealed class OneBotPerFileTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public void The_lock_is_refused_while_held_names_its_holder_and_is_free_again_once_released()
    {
        using var tmp = TempDatabase.Sqlite();
        using var db = tmp.Open();
        var first = SoleInstanceLock.Take(db)!;
        Assert.Equal(db.Path + ".lock", first.Path);

        var refused = Assert.Throws<StartupException>(() => SoleInstanceLock.Take(db));
        Assert.Contains($"another larsbot is already running on {db.Path}", refused.Message);
        Assert.Contains($"(pid {Environment.ProcessId} since ", refused.Message);
        Assert.Contains(first.Path, refused.Message);

        first.Dispose();
        using var again = SoleInstanceLock.Take(db);
        Assert.NotNull(again);
    }

    [Fact]
    public void A_second_bot_is_refused_before_it_migrates_anything()
    {
        using var tmp = TempDatabase.Sqlite();
        using var running = new Database(tmp.Path); // an empty file: no migration has run
        using var held = SoleInstanceLock.Take(running);
        var settings = new Dictionary<string, string?>(tmp.Settings())
        {
            ["Roster:Path"] = Path.Combine(RepoPaths.Root, "roster.sample.json"),
            ["Intake:HttpUrl"] = "http://127.0.0.1:0",
            ["Intake:TcpPort"] = "-1",
            ["Logging:LogLevel:Default"] = "Warning",
        };

        // As `larsbot run` builds it (Cli.RunAsync).
        var refused = Assert.Throws<StartupException>(() => Larsbot.Hosting.LarsbotHost.Build([], configFile: null, overrides: settings,
            services: s => s.PostConfigure<StorageOptions>(o => o.HoldInstanceLock = true)));
        Assert.Contains($"another larsbot is already running on {running.Path}", refused.Message);
        // A newer version refused here has not changed the schema under the one running.
        using var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={tmp.Path}");
        c.Open();
        using var count = c.CreateCommand();
        count.CommandText = "SELECT count(*) FROM sqlite_master";
        Assert.Equal(0L, (long)count.ExecuteScalar()!);
    }

    [Fact]
    public void A_lock_file_the_bot_may_not_open_is_a_clear_refusal()
    {
        using var tmp = TempDatabase.Sqlite();
        using var db = tmp.Open();
        Directory.CreateDirectory(db.Path + ".lock"); // refused even to root, like another user's file to the bot's user
        var refused = Assert.Throws<StartupException>(() => SoleInstanceLock.Take(db));
        Assert.Contains($"cannot open {db.Path}.lock", refused.Message);
    }

    [Fact]
    public async Task A_second_bot_on_the_same_file_exits_2_and_the_first_keeps_running_and_after_a_kill_9_the_next_starts()
    {
        await using var irc = await NgircdServer.StartAsync();
        using var db = TempDatabase.Sqlite();
        await using var providers = await FakeProviders.StartAsync();
        var settings = RunningBot.Settings(irc.Port, providers, db);
        settings["Irc:Channel"] = "#onebot";
        settings["Intake:TcpPort"] = "-1";
        settings.Remove("Intake:HttpUrl");

        await using var first = BotProcess.Start(settings, Ports.Free(), db.Dir);
        await first.WaitReadyAsync(Wait);

        await using var second = BotProcess.Start(settings, Ports.Free(), db.Dir);
        Assert.True(await second.WaitForExitAsync(Wait), "the second bot did not stop by itself:\n" + second.Output);
        Assert.Equal(2, second.ExitCode);
        Assert.Contains($"larsbot: another larsbot is already running on {db.Path}", second.Output);
        Assert.Contains("(pid ", second.Output);
        // The first is untouched: it still takes alerts.
        var r = await first.Http.PostAsync("/alerts", new FormUrlEncodedContent(new Dictionary<string, string>
            { ["host"] = "db1", ["level"] = "irc", ["message"] = "still here" }));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, r.StatusCode);

        first.Kill(); // no shutdown code runs: the kernel drops the lock with the process
        await using var third = BotProcess.Start(settings, Ports.Free(), db.Dir);
        await third.WaitReadyAsync(Wait);
        Assert.False(third.HasExited);
    }
}
