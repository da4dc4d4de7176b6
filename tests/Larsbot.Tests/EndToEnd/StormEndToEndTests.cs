using System.Diagnostics;
using System.Net;
using Dapper;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Xunit.Abstractions;

namespace Larsbot.Tests.EndToEnd;

/// <summary>A switch dies and 500 hosts shout at once: everything is stored, the channel stays readable, one page.</summary>
[Collection(nameof(AloneCollection))]
public sealed class StormEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Ten_thousand_alerts_from_500_hosts_in_10_seconds_are_stored_grouped_and_paged_once()
    {
        await using var rig = await BotRig.StartAsync();
        var (irc, providers, db, settings) = rig;
        // The production flood throttle (burst 4, then 1 line/s), the production countdown.
        settings.Remove("Irc:FloodBurst");
        settings.Remove("Irc:FloodInterval");
        settings["Paging:Countdown"] = "00:00:15";
        settings["Paging:TickEvery"] = "00:00:05";
        settings["Paging:EscalateAfter"] = "00:10:00";
        // One sender (loopback) for all 500 hosts: a monitoring system watching that many needs a bigger caller limit.
        settings["Intake:PerCallerBurst"] = "100000";
        db.SeedDuty("brong");
        await using var bot = await RunningBot.StartAsync(settings);
        await bot.WaitHealthyAsync();
        await using var watcher = await RawIrcClient.ConnectAsync(irc.Port, "robn");
        await watcher.JoinAsync(RunningBot.Channel);

        // 500 hosts x 20 alerts over the line intake, 10 senders each pipelining 1,000 lines (as netcat would):
        // the in-process HttpClient, not the bot, was the limit when this went over HTTP (see docs/benchmarks.md).
        var sw = Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(async sender =>
        {
            using var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync("127.0.0.1", bot.TcpPort);
            var stream = tcp.GetStream();
            var text = new System.Text.StringBuilder();
            for (var i = sender; i < 10_000; i += 10) text.Append($"urgent host{i % 500:D3} link down {i}\n");
            var writing = stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text.ToString())).AsTask();
            using var reader = new StreamReader(stream);
            var lines = new List<string>();
            for (var i = 0; i < 1000; i++) lines.Add((await reader.ReadLineAsync())!);
            await writing;
            return lines;
        }));
        var took = sw.Elapsed;
        output.WriteLine($"10,000 alerts accepted in {took.TotalSeconds:F1} s ({10_000 / took.TotalSeconds:F0}/s)");
        Assert.All(answers.SelectMany(a => a), a => Assert.StartsWith("OK ", a));
        Assert.True(took < TimeSpan.FromSeconds(10), $"sending took {took}");

        // The page: once, for the lot, naming the counts.
        var sms = await providers.WaitForTwilioRequestAsync(1, TimeSpan.FromSeconds(40));
        output.WriteLine($"page: {sms["Body"]}");
        Assert.Matches(@"^host\d{3}: link down \d+ \(\+9999 more from 500 hosts\)$", sms["Body"]);
        var paged = await watcher.WaitForLineAsync(l => l.Contains(":LarsSMS: paging brong"), TimeSpan.FromSeconds(40));

        await using var c = db.Connect();
        Assert.Equal(10_000, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM alerts"));
        Assert.Equal(1, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM countdowns"));
        Assert.Equal(2, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM pages"));
        Assert.Single(providers.TwilioRequests);

        // The channel: a handful of grouped lines that count every alert (delivered at the throttle's pace), and
        // the bot never thrown off for flooding.
        List<string> BotLines() => watcher.Lines.Where(l => l.StartsWith(":Lars_Botlesen!") && l.Contains(" PRIVMSG ")).ToList();
        static int Counted(List<string> lines) =>
            lines.Where(l => l.Contains(" :URGENT ") && l.Contains(" alerts from ")).Sum(l => int.Parse(l.Split(" :URGENT ")[1].Split(' ')[0]))
            + lines.Count(l => l.Contains(" :URGENT host"));
        await Eventually.HoldsAsync(() => Counted(BotLines()) >= 10_000, TimeSpan.FromSeconds(40));
        var botLines = BotLines();
        foreach (var l in botLines) output.WriteLine(l[(l.IndexOf(" :", StringComparison.Ordinal) + 2)..]);
        Assert.Equal(10_000, Counted(botLines));
        Assert.InRange(botLines.Count, 2, 30);
        Assert.DoesNotContain(watcher.Lines, l => l.StartsWith(":Lars_Botlesen!") && l.Contains(" QUIT "));
        var health = await bot.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
