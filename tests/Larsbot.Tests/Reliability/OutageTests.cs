using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Dapper;
using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Xunit.Abstractions;

namespace Larsbot.Tests.Reliability;

/// <summary>
/// IRC, Twilio, Pushover and the disk misbehaving, against the real host, servers and files. The IRC and provider
/// outages run on either database; the disk ones are about the SQLite file.
/// </summary>
public sealed class OutageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static Task<long> CountAsync(TempDatabase db, string sql) => db.ScalarAsync<long>(sql);

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string host, string message) =>
        http.PostAsync("/alerts", new FormUrlEncodedContent(new Dictionary<string, string> { ["host"] = host, ["level"] = "urgent", ["message"] = message }));

    [Fact]
    public async Task IRC_down_for_60_seconds_pages_at_once_then_the_bot_is_back_within_30_seconds_and_reports()
    {
        await using var rig = await BotRig.StartAsync();
        var (irc, providers, db, settings) = rig;
        // The production reconnect policy (1 s doubling to 20 s, with jitter), not the tests' fast one.
        settings.Remove("Irc:ReconnectMinDelay");
        settings.Remove("Irc:ReconnectMaxDelay");
        settings["Paging:Countdown"] = "00:00:30";
        settings["Paging:EscalateAfter"] = "00:10:00";
        settings["Paging:IrcDownGrace"] = "00:00:05";
        await using var bot = await RunningBot.StartAsync(settings);
        await bot.WaitHealthyAsync();
        await using (var brong = await RawIrcClient.ConnectAsync(irc.Port, "brong"))
        {
            await brong.JoinAsync(RunningBot.Channel);
            await brong.SendAsync($"PRIVMSG {RunningBot.Channel} :lars duty take");
            await brong.WaitForLineAsync(l => l.Contains(" TOPIC ") && l.Contains("Bron Gondwana"), Wait);
        }

        var down = Stopwatch.StartNew();
        await irc.StopAsync();
        await Eventually.TrueAsync(async () => (await bot.Http.GetAsync("/health")).StatusCode == HttpStatusCode.ServiceUnavailable, Wait, "health never turned red");

        // Past the grace nobody can ack: the 30 s countdown is skipped and the page goes out at once.
        await Eventually.TrueAsync(() => down.Elapsed > TimeSpan.FromSeconds(6), Wait);
        var posted = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(bot.Http, "db1", "disk full")).StatusCode);
        var sms = await providers.WaitForTwilioRequestAsync(1, Wait);
        output.WriteLine($"POST to SMS with IRC down: {posted.ElapsedMilliseconds} ms");
        Assert.Equal("+61400000001", sms["To"]);
        Assert.True(posted.Elapsed < TimeSpan.FromSeconds(5), $"page took {posted.Elapsed}");

        await Eventually.TrueAsync(() => down.Elapsed >= TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(70));
        await irc.RestartAsync();
        var back = Stopwatch.StartNew();
        await using var watcher = await RawIrcClient.ConnectAsync(irc.Port, "robn");
        await watcher.JoinAsync(RunningBot.Channel);
        var report = await watcher.WaitForLineAsync(l => l.Contains(":back on IRC after "), TimeSpan.FromSeconds(40));
        var rejoined = back.Elapsed;
        output.WriteLine($"IRC down {down.Elapsed.TotalSeconds - rejoined.TotalSeconds:F0} s; bot back {rejoined.TotalSeconds:F1} s after the server; said: {report}");
        Assert.True(rejoined < TimeSpan.FromSeconds(30), $"rejoined after {rejoined}");
        Assert.Contains("1 alert(s) meanwhile (1 urgent: 'db1: disk full'); paged brong (nobody could ack here)", report);
        // The topic is the bot's again (set after the rejoin on a server that forgot the channel).
        await Eventually.TrueAsync(() => watcher.Lines.Any(l => (l.Contains(" TOPIC ") || l.Contains(" 332 ")) && l.Contains("online, normal mode, Bron Gondwana")), Wait, "topic not restored");
        await bot.WaitHealthyAsync();
    }

    [Fact]
    public async Task Twilio_500_429_and_timeouts_are_retried_while_Pushover_delivers_and_4xx_is_never_retried()
    {
        await using var rig = await BotRig.StartAsync();
        var (irc, providers, db, settings) = rig;
        settings["Paging:Countdown"] = "00:00:00.500";
        settings["Paging:TickEvery"] = "00:00:00.500";
        settings["Paging:EscalateAfter"] = "00:10:00";
        settings["Paging:RetryMinDelay"] = "00:00:00.200";
        settings["Twilio:Timeout"] = "00:00:01";
        providers.ScriptTwilio(FakeAnswer.WithStatus(500), FakeAnswer.TooManyRequests("1"), FakeAnswer.Hanging());
        await using var bot = await RunningBot.StartAsync(settings);
        await bot.WaitHealthyAsync();
        await using (var brong = await RawIrcClient.ConnectAsync(irc.Port, "brong"))
        {
            await brong.JoinAsync(RunningBot.Channel);
            await brong.SendAsync($"PRIVMSG {RunningBot.Channel} :lars duty take");
            await brong.WaitForLineAsync(l => l.Contains(":duty: Bron Gondwana"), Wait);

            await PostAsync(bot.Http, "db1", "disk full");
            // Pushover is not held up by Twilio's trouble.
            await providers.WaitForPushoverRequestAsync(1, Wait);
            await brong.WaitForLineAsync(l => l.Contains(":page problem: sms to brong failed (HTTP 500"), Wait);
            await providers.WaitForTwilioRequestAsync(4, Wait);
        }
        await Eventually.TrueAsync(async () => await CountAsync(db, "SELECT COUNT(*) FROM pages WHERE channel = 'sms' AND state = 'sent'") == 1, Wait, "sms never sent");

        var attempts = await db.QueryAsync<(string Outcome, long Started, long Finished, long May)>(
            "SELECT outcome, started_at, finished_at, may_have_been_delivered FROM page_attempts a JOIN pages p ON p.id = a.page_id WHERE p.channel = 'sms' ORDER BY a.id");
        Assert.Equal(["retry", "retry", "retry", "sent"], attempts.Select(a => a.Outcome));
        // 500 and the timeout may have been processed by Twilio (counted); 429 promises it was not.
        Assert.Equal([1L, 0L, 1L, 0L], attempts.Select(a => a.May));
        Assert.True(attempts[2].Started - attempts[1].Finished >= 1000, "Retry-After: 1 not honoured");
        var health = JsonDocument.Parse(await bot.Http.GetStringAsync("/health")).RootElement;
        Assert.Equal(2, health.GetProperty("pages").GetProperty("duplicateRisk").GetInt64());
        Assert.Equal(4, providers.TwilioRequests.Count);
        Assert.Single(providers.PushoverRequests);
    }

    [Fact]
    public async Task Both_providers_down_turns_health_red_and_retries_continue_until_they_recover()
    {
        await using var rig = await BotRig.StartAsync();
        var (irc, providers, db, settings) = rig;
        settings["Paging:Countdown"] = "00:00:00.200";
        settings["Paging:EscalateAfter"] = "00:10:00";
        settings["Paging:RetryMinDelay"] = "00:00:00.100";
        settings["Paging:RetryMaxDelay"] = "00:00:00.300";
        settings["Paging:PageFailingUnhealthyAfter"] = "00:00:01";
        providers.ScriptTwilio(Enumerable.Repeat(FakeAnswer.WithStatus(503), 12).ToArray());
        providers.ScriptPushover(Enumerable.Repeat(FakeAnswer.WithStatus(500), 12).ToArray());
        db.SeedDuty("brong");
        await using var bot = await RunningBot.StartAsync(settings);
        await bot.WaitHealthyAsync();
        await PostAsync(bot.Http, "db1", "disk full");

        await Eventually.TrueAsync(async () => (await bot.Http.GetAsync("/health")).StatusCode == HttpStatusCode.ServiceUnavailable, Wait, "health stayed green");
        var red = await (await bot.Http.GetAsync("/health")).Content.ReadAsStringAsync();
        Assert.Contains("page(s) failing for over", red);
        // Recovery: the scripts run out and the providers answer normally; every page goes out, health is green.
        await Eventually.TrueAsync(async () => await CountAsync(db, "SELECT COUNT(*) FROM pages WHERE state = 'sent'") == 2, Wait, "pages never sent");
        Assert.Equal(13, providers.TwilioRequests.Count);
        Assert.Equal(13, providers.PushoverRequests.Count);
        await bot.WaitHealthyAsync();
    }

    [Fact]
    public async Task A_permanent_4xx_is_never_retried_and_is_said_in_the_channel()
    {
        await using var rig = await BotRig.StartAsync();
        var (irc, providers, db, settings) = rig;
        settings["Paging:Countdown"] = "00:00:00.200";
        settings["Paging:EscalateAfter"] = "00:10:00";
        providers.ScriptTwilio(FakeAnswer.TwilioError(400, 21211, "The 'To' number is not a valid phone number."));
        db.SeedDuty("brong");
        await using var bot = await RunningBot.StartAsync(settings);
        await bot.WaitHealthyAsync();
        await using var robn = await RawIrcClient.ConnectAsync(irc.Port, "robn");
        await robn.JoinAsync(RunningBot.Channel);
        await PostAsync(bot.Http, "db1", "disk full");
        await robn.WaitForLineAsync(l => l.Contains(":page FAILED: sms to brong") && l.Contains("21211"), Wait);
        await Eventually.TrueAsync(async () => await CountAsync(db, "SELECT COUNT(*) FROM pages WHERE state = 'failed'") == 1, Wait, "not failed");
        // Refused for good: asked once, never again.
        Assert.Single(providers.TwilioRequests);
        var health = await bot.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Contains("could not be delivered in the last hour", await health.Content.ReadAsStringAsync());
    }

    // The subject is the SQLite file under the bot: an immutable database file and its WAL.
    [Fact]
    [Trait("Provider", "sqlite")]
    public async Task A_read_only_database_gets_503_never_202_and_recovers()
    {
        Assert.True(Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root",
            "these fault tests change file attributes and mount a small tmpfs: run them as root (CI and scripts/test.sh do)");
        await using var irc = await NgircdServer.StartAsync();
        await using var providers = await FakeProviders.StartAsync();

        // Read-only: the file is made immutable under the running bot (root ignores permission bits, not this).
        using (var db = TempDatabase.Sqlite())
        {
            await using var bot = await RunningBot.StartAsync(RunningBot.Settings(irc.Port, providers, db));
            await bot.WaitHealthyAsync();
            await using var brong = await RawIrcClient.ConnectAsync(irc.Port, "brong");
            await brong.JoinAsync(RunningBot.Channel);
            Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(bot.Http, "ok1", "stored")).StatusCode);
            // The database and its WAL, which SQLite writes with write(2) and so fail with EPERM. Not the -shm index: SQLite
            // writes that through a shared mapping, where an immutable file raises SIGBUS and kills the process, which
            // is not what a read-only disk does (a filesystem cannot even be remounted read-only under open writers).
            var files = Directory.GetFiles(db.Dir, "larsbot.db*").Where(f => !f.EndsWith("-shm")).ToArray();
            Shell("chattr", ["+i", .. files]);
            try
            {
                for (var i = 0; i < 5; i++)
                {
                    var r = await PostAsync(bot.Http, "ro" + i, "not stored");
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
                    Assert.Contains("could not store the alert", await r.Content.ReadAsStringAsync());
                }
                var health = await bot.Http.GetAsync("/health");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
                Assert.Contains("database not writable", await health.Content.ReadAsStringAsync());
                // A command that cannot be written is answered anyway: straight to IRC, since the outbox cannot take the line.
                await brong.SendAsync($"PRIVMSG {RunningBot.Channel} :lars ack");
                await brong.WaitForLineAsync(l => l.Contains(":brong: sorry, that failed on my side"), Wait);
            }
            finally
            {
                Shell("chattr", ["-i", .. files]);
            }
            // Recovers: the first writes after the disk came back can still meet the writer in its failed state (seen in
            // full runs, once for over a second), answered 503 like any failure (nothing stored, send again). Within 5 s
            // an alert is stored. Each try names its own host, so the per-host limit (20 at once) cannot answer 429 first.
            HttpResponseMessage again = null!;
            var tries = 0;
            await Eventually.HoldsAsync(async () =>
            {
                if ((again = await PostAsync(bot.Http, $"ok2-{++tries}", "stored again")).StatusCode == HttpStatusCode.Accepted) return true;
                Assert.Equal(HttpStatusCode.ServiceUnavailable, again.StatusCode);
                return false;
            }, TimeSpan.FromSeconds(5), every: TimeSpan.FromMilliseconds(50));
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
            Assert.Equal(2, await CountAsync(db, "SELECT COUNT(*) FROM alerts"));
            Assert.Equal(0, await CountAsync(db, "SELECT COUNT(*) FROM alerts WHERE host LIKE 'ro%'"));
            Assert.Equal(1, await CountAsync(db, $"SELECT COUNT(*) FROM alerts WHERE host = 'ok2-{tries}'"));
        }

    }

    // The subject is the SQLite file and its WAL on a full filesystem (a PostgreSQL server's disk is not the bot's).
    [Fact]
    [Trait("Provider", "sqlite")]
    public async Task A_full_disk_gets_503_never_202_and_recovers()
    {
        Assert.True(Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root",
            "this fault test mounts a small tmpfs: run it as root (CI and scripts/test.sh do)");
        await using var irc = await NgircdServer.StartAsync();
        await using var providers = await FakeProviders.StartAsync();
        // Disk full: a real ENOSPC on a small tmpfs, filled up under the running bot.
        var mount = Directory.CreateTempSubdirectory("larsbot-full-").FullName;
        Shell("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mount]);
        try
        {
            var path = Path.Combine(mount, "larsbot.db");
            using var template = TempDatabase.Sqlite(); // a SQLite bot's settings, its file moved onto the tmpfs
            var settings = RunningBot.Settings(irc.Port, providers, template);
            settings["Database:Path"] = path;
            await using var bot = await RunningBot.StartAsync(settings);
            await bot.WaitHealthyAsync();
            Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(bot.Http, "ok1", "stored")).StatusCode);
            var filler = Path.Combine(mount, "filler");
            Shell("sh", ["-c", $"dd if=/dev/zero of={filler} bs=64k 2>/dev/null; true"]);
            var refused = 0;
            for (var i = 0; i < 50; i++)
            {
                // Big messages, so the WAL must grow into the space that is no longer there.
                var r = await PostAsync(bot.Http, "full" + i, new string('x', 60_000));
                Assert.NotEqual(HttpStatusCode.InternalServerError, r.StatusCode);
                if (r.StatusCode == HttpStatusCode.ServiceUnavailable) refused++;
                else Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
            }
            Assert.True(refused > 0, "the full disk never refused a write");
            var accepted = 50 - refused;
            File.Delete(filler);
            Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(bot.Http, "ok2", "stored again")).StatusCode);
            // Every 202 is in the file, and nothing answered 503 is.
            await using (var c = TempDatabase.Connect(path, connectionString: null))
                Assert.Equal(accepted + 2, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM alerts"));
            output.WriteLine($"disk full: {refused} of 50 alerts refused with 503, {accepted} accepted and stored");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Shell("umount", ["-l", mount]);
            Directory.Delete(mount);
        }
    }

    private static void Shell(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} failed: {err}");
    }
}
