using System.Net;
using System.Text.Json;
using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;

namespace Larsbot.Tests.Intake;

/// <summary>
/// Issue 15 item 3, through real sockets: the rate limit holds per caller as well as per host, so inventing host
/// names does not escape it; resolves count; Alertmanager is answered 503 (which it retries), not 429 (which it drops).
/// </summary>
public sealed class CallerLimitOverTheWireTests : BotsOnOneIrc
{
    private static FormUrlEncodedContent Alert(string host, string level = "irc") =>
        new(new Dictionary<string, string> { ["host"] = host, ["level"] = level, ["message"] = "link down" });

    [Fact]
    public async Task Three_hundred_alerts_with_invented_hosts_from_one_caller_stop_at_its_burst_and_the_channel_hears_once()
    {
        // The defaults (PerCallerBurst 200), with a slow refill so the count is exact.
        var (bot, db) = await StartAsync(new() { ["Intake:PerCallerPerMinute"] = "1", ["Intake:FloodReportAfter"] = "00:00:00.300" });
        await bot.WaitHealthyAsync();
        await using var watcher = await RawIrcClient.ConnectAsync(Irc.Port, "watcher");
        await watcher.JoinAsync(RunningBot.Channel);

        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        await Parallel.ForAsync(0, 300, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            using var r = await bot.Http.PostAsync("/alerts", Alert($"invented{i}", i == 299 ? "urgent" : "irc"), ct);
            statuses.Add(r.StatusCode);
            if (r.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(r.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
                Assert.StartsWith("rate limited: this sender sends too many alerts", JsonDocument.Parse(await r.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("error").GetString());
            }
        });
        Assert.Equal(200, statuses.Count(s => s == HttpStatusCode.Accepted));
        Assert.Equal(100, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(200, await ScalarAsync(db, "SELECT COUNT(*) FROM alerts WHERE host LIKE 'invented%'"));
        // The TCP door shares the caller's bucket.
        Assert.StartsWith("ERR 429 rate limited: this sender", (await TcpAsync(bot, 1, "irc yet-another-host x"))[0]);

        // One report names the caller, not 100 lines; one refused alert was urgent, so it pages (after the storm of
        // 200 it may be said grouped: the page line quotes it either way).
        var line = await watcher.WaitForLineAsync(l => l.Contains("LarsSMS:") && l.Contains("is flooding:"), TimeSpan.FromSeconds(10));
        Assert.Matches(@"larsbot: 127\.0\.0\.1 is flooding: 10[01] alerts held back in 0\.3 secs \(answered 429, not stored; 1 urgen", line);
        Assert.Equal(1, await ScalarAsync(db, "SELECT COUNT(*) FROM alerts WHERE source = 'flood'"));
    }

    [Fact]
    public async Task Each_token_is_its_own_caller_and_resolves_and_acknowledges_are_limited_too()
    {
        var settings = TwoTokens();
        settings["Intake:PerCallerBurst"] = "3";
        settings["Intake:PerCallerPerMinute"] = "1";
        var (bot, db) = await StartAsync(settings);
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
            answers.Add((await PostJsonAsync(bot, "/alerts", $$"""{"action":"resolve","key":"k{{i}}"}""", Shared)).StatusCode);
        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], answers);
        var ack = await PostJsonAsync(bot, "/v2/enqueue", $$"""{"routing_key":"{{Shared}}","event_action":"acknowledge","dedup_key":"x"}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, ack.StatusCode);
        Assert.Equal(3, await ScalarAsync(db, "SELECT COUNT(*) FROM alert_events"));
        // The other token has its own bucket.
        Assert.Equal(HttpStatusCode.Accepted, (await PostJsonAsync(bot, "/alerts", """{"host":"gateway1","message":"m"}""", Gateways)).StatusCode);
    }

    [Fact]
    public async Task Alertmanager_over_the_callers_limit_gets_503_with_Retry_After_and_nothing_is_stored()
    {
        var (bot, db) = await StartAsync(new() { ["Intake:PerCallerBurst"] = "5", ["Intake:PerCallerPerMinute"] = "1" });
        static string Group(int n, int from) => """{"version":"4","status":"firing","alerts":[""" + string.Join(",", Enumerable.Range(from, n).Select(i =>
            $$$"""{"status":"firing","labels":{"alertname":"Down","instance":"node{{{i}}}"},"annotations":{"summary":"down"}}""")) + "]}";
        Assert.Equal(HttpStatusCode.OK, (await PostJsonAsync(bot, "/api/alertmanager", Group(4, 0))).StatusCode);
        var over = await PostJsonAsync(bot, "/api/alertmanager", Group(4, 100));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, over.StatusCode);
        Assert.True(over.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal(4, await ScalarAsync(db, "SELECT COUNT(*) FROM alerts"));
        // A group larger than the whole burst still passes once the bucket is full: it is never refused for ever.
        var (fresh, freshDb) = await StartAsync(new() { ["Intake:PerCallerBurst"] = "5", ["Intake:PerCallerPerMinute"] = "1" });
        Assert.Equal(HttpStatusCode.OK, (await PostJsonAsync(fresh, "/api/alertmanager", Group(30, 0))).StatusCode);
        Assert.Equal(30, await ScalarAsync(freshDb, "SELECT COUNT(*) FROM alerts"));
    }
}
