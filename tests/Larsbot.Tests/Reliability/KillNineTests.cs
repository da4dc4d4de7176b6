using System.Diagnostics;
using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Xunit.Abstractions;

namespace Larsbot.Tests.Reliability;

/// <summary>
/// kill -9 the real bot process at 20 moments across countdown, first page, everyone-page and ack mode, start it
/// again on the same database (SQLite file or PostgreSQL database: the bot crashes, the database stays up), and check
/// every due page reached the provider and none twice (except where the database records the one known window: killed
/// between "sending" and "sent").
/// </summary>
public sealed class KillNineTests(ITestOutputHelper output)
{
    // Short, as an operator could configure them: the whole escalation takes ~4 s.
    private static readonly TimeSpan Countdown = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Escalate = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const int Parallel = 4;
    private const string Body = "db1: replication stopped";
    private const string EveryoneBody = "db1: replication stopped (not acked in 2 secs: paging everybody)";

    private sealed record Outcome(string Point, int Requests, int Expected, int Duplicates, int Interrupted, string Detail);

    [Fact]
    public async Task Killed_at_14_moments_of_an_unacked_escalation_every_page_arrives_once()
    {
        // Milliseconds after the alert's 202: countdown (0-2 s), first page (~2 s), waiting (2-4 s), everyone (~4 s).
        int[] points = [0, 300, 900, 1500, 1900, 1980, 2000, 2030, 2150, 3000, 3950, 4000, 4040, 4300];
        var outcomes = await RunAllAsync(points.Select(ms => (Func<Task<Outcome>>)(() => UnackedAsync(ms))));
        Report(outcomes);
    }

    [Fact]
    public async Task Killed_at_6_moments_of_ack_mode_nothing_is_paged_and_ack_mode_ends_once()
    {
        int[] points = [0, 100, 600, 1200, 1900, 2100];
        var outcomes = await RunAllAsync(points.Select(ms => (Func<Task<Outcome>>)(() => AckedAsync(ms))));
        Report(outcomes);
    }

    private void Report(IReadOnlyList<Outcome> outcomes)
    {
        foreach (var o in outcomes) output.WriteLine($"kill at {o.Point}: {o.Requests}/{o.Expected} requests, duplicates {o.Duplicates} (interrupted sends {o.Interrupted}) {o.Detail}");
        var delivered = outcomes.Count(o => o.Requests - o.Duplicates == o.Expected);
        var unexplained = outcomes.Sum(o => Math.Max(0, o.Duplicates - o.Interrupted));
        output.WriteLine($"{delivered}/{outcomes.Count} kill points delivered, {outcomes.Sum(o => o.Duplicates)} duplicates ({unexplained} outside the recorded window)");
        Assert.All(outcomes, o => Assert.Equal(o.Expected, o.Requests - o.Duplicates));
        Assert.Equal(0, unexplained);
    }

    private static async Task<IReadOnlyList<Outcome>> RunAllAsync(IEnumerable<Func<Task<Outcome>>> runs)
    {
        using var gate = new SemaphoreSlim(Parallel);
        var tasks = runs.Select(async run =>
        {
            await gate.WaitAsync();
            try
            {
                return await run();
            }
            finally
            {
                gate.Release();
            }
        });
        return await Task.WhenAll(tasks);
    }

    private sealed class Run : IAsyncDisposable
    {
        public required TempDatabase Db { get; init; }
        public required FakeProviders Providers { get; init; }
        public required Dictionary<string, string?> Settings { get; init; }
        public required string Channel { get; init; }
        public required NgircdServer Irc { get; init; }
        public BotProcess? Bot { get; set; }

        public async ValueTask DisposeAsync()
        {
            await Teardown.AllAsync(Bot, Irc, Providers, Db);
        }
    }

    private async Task<Run> NewRunAsync(string name, bool onDuty)
    {
        // Each run has its own IRC server, providers and database: runs proceed in parallel without meeting.
        var irc = await NgircdServer.StartAsync();
        var db = new TempDatabase();
        var providers = await FakeProviders.StartAsync();
        var channel = "#" + name;
        var settings = RunningBot.Settings(irc.Port, providers, db);
        settings["Irc:Channel"] = channel;
        settings["Irc:Nick"] = "lars" + name;
        settings["Intake:TcpPort"] = "-1";
        settings["Paging:Countdown"] = Countdown.ToString();
        settings["Paging:TickEvery"] = "00:00:00.500";
        settings["Paging:EscalateAfter"] = Escalate.ToString();
        settings["Paging:AckModeFor"] = "00:00:02";
        settings["Paging:RetryMinDelay"] = "00:00:00.200";
        settings["Paging:IrcDownGrace"] = "00:01:00";
        settings.Remove("Intake:HttpUrl");
        // Duty is a row like any other: write it before the first start, as `lars duty take` would have.
        if (onDuty) db.SeedDuty("brong");
        return new Run { Db = db, Providers = providers, Settings = settings, Channel = channel, Irc = irc };
    }

    private static async Task<BotProcess> StartBotAsync(Run run)
    {
        // Four runs start bots side by side: a port found free can be taken by another run's bot before this one binds
        // it. Then this one exits; it is started again on another port.
        for (var attempt = 1; ; attempt++)
        {
            var bot = BotProcess.Start(run.Settings, Ports.Free(), run.Db.Dir);
            try
            {
                await bot.WaitReadyAsync(Wait, nick: run.Settings["Irc:Nick"]);
                // The kill points count from the 202, so the bot must be running the engine by then. On PostgreSQL it
                // is a standby until it holds the leader lease, and a restart waits out the killed one's (5 s).
                await SharedDatabase.WaitRoleAsync(bot, "leader", Wait);
                return bot;
            }
            catch (InvalidOperationException) when (attempt < 3 && bot.HasExited)
            {
                await bot.DisposeAsync();
            }
        }
    }

    private async Task<Outcome> UnackedAsync(int killAfterMs)
    {
        await using var run = await NewRunAsync($"k{killAfterMs}", onDuty: true);
        run.Bot = await StartBotAsync(run);
        var r = await run.Bot.Http.PostAsync("/alerts", new FormUrlEncodedContent(new Dictionary<string, string>
            { ["host"] = "db1", ["level"] = "urgent", ["message"] = "replication stopped" }));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, r.StatusCode);
        var sw = Stopwatch.StartNew();
        if (killAfterMs > 0) await Task.Delay(killAfterMs);
        run.Bot.Kill();
        var killedAfter = sw.ElapsedMilliseconds; // before the phase is read: three connections take a while on a busy machine
        var phase = await PhaseAsync(run.Db);
        output.WriteLine($"k{killAfterMs}: killed {killedAfter} ms after the 202, phase: {phase}");
        await run.Bot.DisposeAsync();

        run.Bot = await StartBotAsync(run);
        // Done when the first page and the everyone page are all recorded as sent.
        await Eventually.TrueAsync(async () => await CountAsync(run.Db, "SELECT COUNT(*) FROM pages WHERE state = 'sent'") == 7, Wait);
        var interrupted = (int)await CountAsync(run.Db, "SELECT COUNT(*) FROM page_attempts WHERE outcome = 'interrupted'");

        var seen = run.Providers.TwilioRequests.Select(q => $"sms {q["To"]} {q["Body"]}")
            .Concat(run.Providers.PushoverRequests.Select(q => $"push {q["user"]} {q["message"]}")).ToList();
        string[] expected =
        [
            $"sms +61400000001 {Body}", $"push uQiRzpo4DXghDmr9QzzfQu27cmVRsG {Body}",
            $"sms +61400000001 {EveryoneBody}", $"sms +61400000002 {EveryoneBody}", $"sms +4790000003 {EveryoneBody}",
            $"push uQiRzpo4DXghDmr9QzzfQu27cmVRsG {EveryoneBody}", $"push azGDORePK8gMaC0QOYAMyEEuzJnyUi {EveryoneBody}",
        ];
        foreach (var e in expected) Assert.Contains(e, seen);
        Assert.All(seen, s => Assert.Contains(s, expected));
        return new Outcome($"{killAfterMs} ms ({phase})", seen.Count, expected.Length, seen.Count - seen.Distinct().Count(), interrupted, "");
    }

    private async Task<Outcome> AckedAsync(int killAfterAckMs)
    {
        await using var run = await NewRunAsync($"a{killAfterAckMs}", onDuty: true);
        run.Bot = await StartBotAsync(run);
        await using var person = await RawIrcClient.ConnectAsync(run.Irc.Port, "brong_");
        await person.JoinAsync(run.Channel);

        await run.Bot.Http.PostAsync("/alerts", new FormUrlEncodedContent(new Dictionary<string, string>
            { ["host"] = "db1", ["level"] = "urgent", ["message"] = "replication stopped" }));
        await person.WaitForLineAsync(l => l.Contains(":URGENT db1 - replication stopped"), Wait);
        await person.SendAsync($"PRIVMSG {run.Channel} :lars ack");
        await person.WaitForLineAsync(l => l.Contains(":ack: OK "), Wait);
        if (killAfterAckMs > 0) await Task.Delay(killAfterAckMs);
        run.Bot.Kill();
        await run.Bot.DisposeAsync();

        run.Bot = await StartBotAsync(run);
        // The ack-mode period ends in the database, said by whichever process committed it; then the topic is normal again.
        await Eventually.TrueAsync(async () => await CountAsync(run.Db, "SELECT COUNT(*) FROM ack_modes WHERE ended_at IS NULL") == 0, Wait);
        await Eventually.TrueAsync(() => person.Lines.Any(l => l.Contains(" TOPIC ") && l.Contains(":online, normal mode")), Wait);
        await Eventually.TrueAsync(() => person.Lines.Any(l => l.Contains(":ack mode over")), Wait);
        // Past the original page deadline and the everyone deadline: nothing may have been paged, nothing said twice.
        var overLines = person.Lines.Count(l => l.Contains(":ack mode over"));
        Assert.Equal(1, overLines);
        Assert.Equal(0, await CountAsync(run.Db, "SELECT COUNT(*) FROM pages"));
        Assert.Empty(run.Providers.TwilioRequests);
        Assert.Empty(run.Providers.PushoverRequests);
        return new Outcome($"ack+{killAfterAckMs} ms", 0, 0, 0, 0, $"'ack mode over' said {overLines}x");
    }

    private static async Task<string> PhaseAsync(TempDatabase db)
    {
        var state = await db.ScalarAsync<string?>("SELECT state FROM countdowns ORDER BY id DESC LIMIT 1") ?? "alert not handled";
        var sent = await CountAsync(db, "SELECT COUNT(*) FROM pages WHERE state = 'sent'");
        var sending = await CountAsync(db, "SELECT COUNT(*) FROM pages WHERE state = 'sending'");
        return $"{state}, {sent} sent, {sending} in flight";
    }

    private static Task<long> CountAsync(TempDatabase db, string sql) => db.ScalarAsync<long>(sql);
}
