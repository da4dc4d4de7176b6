using System.Net;
using System.Text.Json;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.EndToEnd;

/// <summary>GET /metrics in the exposition format, scraped by the real Debian Prometheus.</summary>
public class MetricsEndToEndTests : IAsyncLifetime
{
    /// <summary>Run the Native AOT executable (scripts/publish.sh) instead of the bot in this process.</summary>
    protected virtual bool Native => false;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private BotRig _rig = null!;
    private NgircdServer _irc = null!;
    private FakeProviders _providers = null!;
    private TempDatabase _db = null!;
    private RunningBot _bot = null!;

    public async Task InitializeAsync()
    {
        _rig = await BotRig.StartAsync();
        (_irc, _providers, _db, _) = _rig;
        _bot = await RunningBot.StartAsync(RunningBot.Settings(_irc.Port, _providers, _db), Native);
        await _bot.WaitHealthyAsync();
    }

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(_bot, _rig);
    }

    [Fact]
    public async Task Metrics_endpoint_shows_alerts_pages_countdowns_ack_mode_and_irc()
    {
        await _bot.PostAlertAsync("db1", "irc", "lag");
        await _bot.PostAlertAsync("db1", "urgent", "down");
        var r = await _bot.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.StartsWith("text/plain", r.Content.Headers.ContentType!.MediaType);
        var text = await r.Content.ReadAsStringAsync();
        Assert.Contains("larsbot_alerts_total{level=\"irc\",source=\"http\"} 1", text);
        Assert.Contains("larsbot_alerts_total{level=\"urgent\",source=\"http\"} 1", text);
        Assert.Contains("larsbot_irc_connected 1", text);
        Assert.Contains("larsbot_ack_mode 0", text);
        Assert.Contains("# TYPE larsbot_ack_latency_seconds histogram", text);
        Assert.Contains("# TYPE larsbot_page_attempts_total counter", text);
        Assert.Contains("larsbot_countdowns{state=", text);
        // Two alerts were posted one at a time: two commits of one alert each, and the engine has run.
        Assert.Contains("larsbot_intake_commits_total 2", text);
        Assert.Contains("larsbot_intake_committed_alerts_total 2", text);
        Assert.Matches(@"larsbot_engine_passes_total [1-9]", text);

        // The next scrape counts only what came since (it reads new rows only): nothing twice, nothing missed.
        await _bot.PostAlertAsync("db1", "irc", "lag again");
        text = await (await _bot.Http.GetAsync("/metrics")).Content.ReadAsStringAsync();
        Assert.Contains("larsbot_alerts_total{level=\"irc\",source=\"http\"} 2", text);
        Assert.Contains("larsbot_alerts_total{level=\"urgent\",source=\"http\"} 1", text);
    }

    [Fact]
    public async Task The_real_Prometheus_scrapes_it()
    {
        await _bot.PostAlertAsync("web1", "irc", "load high");
        var port = Ports.Free();
        var target = new Uri(_bot.HttpBase).Authority;
        await using var prom = Daemon.Start("/usr/bin/prometheus", "larsbot-prom-", dir =>
        {
            File.WriteAllText(Path.Combine(dir, "prometheus.yml"), $"""
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: larsbot
                    static_configs:
                      - targets: ['{target}']
                """);
            return ["--config.file=" + Path.Combine(dir, "prometheus.yml"), "--storage.tsdb.path=" + Path.Combine(dir, "data"),
                    $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"];
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };

        async Task<string?> Query(string q)
        {
            var body = await http.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString(q));
            using var doc = JsonDocument.Parse(body);
            var result = doc.RootElement.GetProperty("data").GetProperty("result");
            return result.GetArrayLength() == 0 ? null : result[0].GetProperty("value")[1].GetString();
        }
        await prom.WaitUntilAsync(async () => await Query("larsbot_alerts_total{level=\"irc\",source=\"http\"}") == "1", Wait,
            "Prometheus scraping larsbot_alerts_total");
        Assert.Equal("1", await Query("up{job=\"larsbot\"}"));
        Assert.Equal("1", await Query("larsbot_irc_connected"));
    }
}

/// <summary>The same, against the deployed native executable.</summary>
public sealed class MetricsEndToEndNativeTests : MetricsEndToEndTests
{
    protected override bool Native => true;
}
