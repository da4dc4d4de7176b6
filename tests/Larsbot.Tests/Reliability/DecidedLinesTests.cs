using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Xunit.Abstractions;

namespace Larsbot.Tests.Reliability;

/// <summary>
/// A channel line is a row in the outbox from the moment it is decided. kill -9 the bot at a point the test chooses:
/// IRC is unreachable (the server stopped), so the URGENT line and two countdown lines are decided but not said. After
/// the restart, with the server back, the URGENT line is said; the countdown lines of before the kill are stale and
/// are dropped, and the countdown goes on with lines that are true now.
/// </summary>
public class DecidedLinesTests(ITestOutputHelper output)
{
    /// <summary>Run the Native AOT executable (scripts/publish.sh) instead of larsbot.dll on the JIT.</summary>
    protected virtual bool Native => false;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string Urgent = "URGENT db1 - replication stopped";

    [Fact]
    public async Task A_line_decided_before_a_kill_is_said_after_the_restart_and_a_stale_countdown_line_is_dropped()
    {
        await using var irc = await NgircdServer.StartAsync();
        await irc.StopAsync(); // the paused provider: nothing can be said until it is back
        using var db = new TempDatabase();
        await using var providers = await FakeProviders.StartAsync();
        db.SeedDuty("brong");
        var settings = RunningBot.Settings(irc.Port, providers, db);
        settings["Irc:Channel"] = "#decided";
        settings["Intake:TcpPort"] = "-1";
        settings["Paging:Countdown"] = "00:01:00";
        settings["Paging:TickEvery"] = "00:00:01";
        // Nobody can ack while IRC is down, but within the grace the countdown runs as usual: that is the window.
        settings["Paging:IrcDownGrace"] = "00:10:00";
        settings.Remove("Intake:HttpUrl");

        var bot = BotProcess.Start(settings, Ports.Free(), db.Dir, Native);
        string[] staleTicks;
        try
        {
            await bot.WaitReadyAsync(Wait, anyAnswer: true); // not healthy: IRC is unreachable, on purpose
            var r = await bot.Http.PostAsync("/alerts", new FormUrlEncodedContent(new Dictionary<string, string>
                { ["host"] = "db1", ["level"] = "urgent", ["message"] = "replication stopped" }));
            Assert.Equal(System.Net.HttpStatusCode.Accepted, r.StatusCode);
            // The chosen point: the URGENT line and two countdown lines are rows, none said (no server to say them to).
            await Eventually.TrueAsync(async () => (await LinesAsync(db, "tick")).Length >= 2, Wait, "two countdown lines decided");
            Assert.Contains(Urgent, await LinesAsync(db, "line"));
            staleTicks = await LinesAsync(db, "tick");
            bot.Kill();
        }
        finally
        {
            await bot.DisposeAsync();
        }
        output.WriteLine($"killed with these decided and unsaid: {Urgent}; {string.Join("; ", staleTicks)}");
        // The claim: those countdown lines are stale by the time the bot is back. Make sure the last one's moment has
        // passed before it starts (it is usually long past: a start takes about a second).
        var expires = await db.ScalarAsync<long>("SELECT MAX(expires_at) FROM outbox WHERE channel = 'irc' AND stage = 'tick'");
        var wait = DateTimeOffset.FromUnixTimeMilliseconds(expires) - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero) await Task.Delay(wait);

        await irc.RestartAsync();
        await using var person = await RawIrcClient.ConnectAsync(irc.Port, "brong_");
        await person.JoinAsync("#decided");
        await using var again = BotProcess.Start(settings, Ports.Free(), db.Dir, Native);
        await again.WaitReadyAsync(Wait);

        await person.WaitForLineAsync(l => l.EndsWith(":" + Urgent), Wait);
        // The countdown goes on: the next line said is one decided now, not one from before the kill.
        var next = await person.WaitForLineAsync(l => l.Contains(":LarsSMS: 'db1: replication stopped' in "), Wait);
        output.WriteLine($"after the restart: {next}");
        Assert.DoesNotContain(person.Lines, l => staleTicks.Any(t => l.EndsWith(":" + t)));
        Assert.Equal(1, person.Lines.Count(l => l.EndsWith(":" + Urgent)));
        Assert.All(await StatesAsync(db, staleTicks), s => Assert.Equal("purged", s));
    }

    private static async Task<string[]> LinesAsync(TempDatabase db, string stage) =>
        [.. await db.QueryAsync<string>("SELECT body FROM outbox WHERE channel = 'irc' AND stage = @stage ORDER BY id", new { stage })];

    private static async Task<List<string>> StatesAsync(TempDatabase db, string[] bodies) =>
        (await db.QueryAsync<(string Body, string State)>("SELECT body, state FROM outbox WHERE channel = 'irc'"))
            .Where(r => bodies.Contains(r.Body)).Select(r => r.State).ToList();
}

/// <summary>The same kill -9 and restart, on the deployed native executable.</summary>
public sealed class DecidedLinesNativeTests(ITestOutputHelper output) : DecidedLinesTests(output)
{
    protected override bool Native => true;
}
