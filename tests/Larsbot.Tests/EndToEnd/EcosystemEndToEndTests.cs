using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.EndToEnd;

/// <summary>
/// The integrations as their senders use them, seen from a second IRC connection: curl with a key, the real Debian
/// Alertmanager delivering its webhook, Grafana's signed variant, and a PagerDuty Events v2 client.
/// </summary>
public class EcosystemEndToEndTests : IAsyncLifetime
{
    /// <summary>Run the Native AOT executable (scripts/publish.sh) instead of the bot in this process.</summary>
    protected virtual bool Native => false;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private const string Token = "am-token-0123456789";
    private const string GrafanaSecret = "grafana-secret";
    private BotRig _rig = null!;
    private NgircdServer _irc = null!;
    private FakeProviders _providers = null!;
    private TempDatabase _db = null!;
    private RunningBot _bot = null!;
    private RawIrcClient _brong = null!;

    public async Task InitializeAsync()
    {
        _rig = await BotRig.StartAsync();
        (_irc, _providers, _db, _) = _rig;
        var settings = RunningBot.Settings(_irc.Port, _providers, _db);
        settings["Intake:Tokens:0:Token"] = Token;
        settings["Intake:Tokens:0:Name"] = "alertmanager";
        settings["Alertmanager:GrafanaSecret"] = GrafanaSecret;
        _bot = await RunningBot.StartAsync(settings, Native);
        await _bot.WaitHealthyAsync();
        _brong = await RawIrcClient.ConnectAsync(_irc.Port, "brong_");
        await _brong.JoinAsync(RunningBot.Channel);
    }

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(_brong, _bot, _rig);
    }

    private Task<string> SaysAsync(string text) =>
        _brong.WaitForLineAsync(l => l.Contains($"PRIVMSG {RunningBot.Channel} :{text}", StringComparison.Ordinal), Wait);

    private Task<HttpResponseMessage> PostJsonAsync(string path, string json, string? bearer = null)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (bearer is not null) req.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        return _bot.Http.SendAsync(req);
    }

    [Fact]
    public async Task Curl_with_a_key_repeats_quietly_and_action_resolve_says_RESOLVED()
    {
        Task<HttpResponseMessage> Post(params (string, string)[] fields) =>
            _bot.Http.PostAsync("/alerts", new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))));
        Assert.Equal(HttpStatusCode.Accepted, (await Post(("host", "db1"), ("level", "irc"), ("message", "replication lag"), ("key", "db1-lag"))).StatusCode);
        await SaysAsync("irc db1 - replication lag");
        Assert.Equal(HttpStatusCode.Accepted, (await Post(("host", "db1"), ("level", "irc"), ("message", "replication lag 40s"), ("key", "db1-lag"))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await Post(("key", "db1-lag"), ("action", "resolve"))).StatusCode);
        await SaysAsync("RESOLVED db1 - replication lag (seen 2 times)");
        Assert.DoesNotContain(_brong.Lines, l => l.Contains("replication lag 40s"));

        var bad = await Post(("key", "x"), ("action", "snooze"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("unknown action 'snooze'", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Lars_notify_script_sends_with_the_token_from_the_environment_and_resolves_by_key()
    {
        async Task<(int Code, string Err)> Run(params string[] args)
        {
            var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh") { RedirectStandardError = true, RedirectStandardOutput = true };
            psi.ArgumentList.Add(Path.Combine(RepoPaths.Root, "scripts", "lars-notify"));
            foreach (var a in args) psi.ArgumentList.Add(a);
            psi.Environment["LARSBOT_URL"] = _bot.HttpBase;
            psi.Environment["LARSBOT_TOKEN"] = Token;
            using var p = System.Diagnostics.Process.Start(psi)!;
            var err = await p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            return (p.ExitCode, err);
        }
        var sent = await Run("-H", "mx1", "-k", "queue", "irc", "mail queue at 5000");
        Assert.True(sent.Code == 0, sent.Err);
        await SaysAsync("irc mx1 - mail queue at 5000");
        var resolved = await Run("-H", "mx1", "-k", "queue", "resolve");
        Assert.True(resolved.Code == 0, resolved.Err);
        await SaysAsync("RESOLVED mx1 - mail queue at 5000");
        var bad = await Run("loud", "x");
        Assert.Equal(1, bad.Code);
        Assert.Contains("unknown level 'loud'", bad.Err);
    }

    [Fact]
    public async Task The_real_Alertmanager_delivers_firing_and_resolved_alerts_to_the_channel()
    {
        var amPort = Ports.Free();
        await using var am = Daemon.Start("/usr/bin/prometheus-alertmanager", "larsbot-am-", dir =>
        {
            File.WriteAllText(Path.Combine(dir, "alertmanager.yml"), $"""
                route:
                  receiver: larsbot
                  group_by: ['alertname']
                  group_wait: 0s
                  group_interval: 1s
                  repeat_interval: 1h
                receivers:
                  - name: larsbot
                    webhook_configs:
                      - url: '{_bot.HttpBase}/api/alertmanager'
                        send_resolved: true
                        http_config:
                          authorization:
                            credentials: '{Token}'
                """);
            return ["--config.file=" + Path.Combine(dir, "alertmanager.yml"), "--storage.path=" + Path.Combine(dir, "data"),
                    $"--web.listen-address=127.0.0.1:{amPort}", "--cluster.listen-address=", "--log.level=warn"];
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{amPort}"), Timeout = TimeSpan.FromSeconds(10) };
        await am.WaitUntilAsync(async () => (await http.GetAsync("/-/ready")).IsSuccessStatusCode, Wait, "Alertmanager ready");

        string Alert(string endsAt) => $$"""
            [{"labels":{"alertname":"DiskFull","instance":"db1:9100","severity":"critical"},
              "annotations":{"summary":"disk / at 97%"}{{endsAt}}}]
            """;
        var post = await http.PostAsync("/api/v2/alerts", new StringContent(Alert(""), Encoding.UTF8, "application/json"));
        Assert.True(post.IsSuccessStatusCode, await post.Content.ReadAsStringAsync());
        await SaysAsync("URGENT db1:9100 - DiskFull: disk / at 97%");
        await SaysAsync("LarsSMS: 'db1:9100: DiskFull: disk / at 97%' in");

        var past = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
        post = await http.PostAsync("/api/v2/alerts", new StringContent(Alert($",\"endsAt\":\"{past}\""), Encoding.UTF8, "application/json"));
        Assert.True(post.IsSuccessStatusCode, await post.Content.ReadAsStringAsync());
        await SaysAsync("RESOLVED db1:9100 - DiskFull: disk / at 97%");
        await SaysAsync("resolved: page #1 stopped, everything in it is resolved");
        Assert.Empty(_providers.TwilioRequests);
    }

    [Fact]
    public async Task Alertmanager_payloads_answer_4xx_when_bad_and_need_the_token()
    {
        var noToken = await PostJsonAsync("/api/alertmanager", """{"version":"4","alerts":[]}""");
        // Loopback without a token is allowed by default; a wrong token is not.
        Assert.Equal(HttpStatusCode.OK, noToken.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostJsonAsync("/api/alertmanager", """{"alerts":[]}""", "wrong")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostJsonAsync("/api/alertmanager", "{not json", Token)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostJsonAsync("/api/alertmanager", """{"version":"4"}""", Token)).StatusCode);

        // Newer fields are ignored; a missing fingerprint is derived from the labels, so a resend is a repeat.
        const string newer = """
            {"version":"4","notification_reason":"new","routeLabels":{"a":"b"},"status":"firing","groupKey":"x",
             "alerts":[{"status":"firing","labels":{"alertname":"Load","host":"web 7","severity":"warning"},"annotations":{"description":"load 9"}}]}
            """;
        Assert.Equal(HttpStatusCode.OK, (await PostJsonAsync("/api/alertmanager", newer, Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostJsonAsync("/api/alertmanager", newer, Token)).StatusCode);
        await SaysAsync("irc web_7 - Load: load 9");
        Assert.Single(_brong.Lines, l => l.Contains("Load: load 9"));
    }

    [Fact]
    public async Task Grafana_signed_webhook_is_accepted_and_a_bad_signature_is_refused()
    {
        const string body = """
            {"version":"1","orgId":1,"title":"[FIRING:1]","state":"alerting","message":"m","status":"firing",
             "alerts":[{"status":"firing","labels":{"alertname":"HighLatency","instance":"api1","severity":"critical"},
                        "annotations":{"summary":"p99 over 2s"},"fingerprint":"abc123"}]}
            """;
        var sig = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(GrafanaSecret), Encoding.UTF8.GetBytes(body)));
        var bad = new HttpRequestMessage(HttpMethod.Post, "/api/alertmanager") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        bad.Headers.Add("X-Grafana-Alerting-Signature", new string('0', 64));
        Assert.Equal(HttpStatusCode.Unauthorized, (await _bot.Http.SendAsync(bad)).StatusCode);
        var good = new HttpRequestMessage(HttpMethod.Post, "/api/alertmanager") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        good.Headers.Add("X-Grafana-Alerting-Signature", sig);
        Assert.Equal(HttpStatusCode.OK, (await _bot.Http.SendAsync(good)).StatusCode);
        await SaysAsync("URGENT api1 - HighLatency: p99 over 2s");
    }

    [Fact]
    public async Task PagerDuty_events_v2_trigger_acknowledge_resolve_answer_as_PagerDuty_does()
    {
        var trigger = await PostJsonAsync("/v2/enqueue", $$$"""
            {"routing_key":"{{{Token}}}","event_action":"trigger","dedup_key":"srv01/mysql","client":"Sample Monitoring Service",
             "payload":{"summary":"DISK at 99% on machine prod-datapipe03","severity":"critical","source":"prod-datapipe03.example.com",
                        "component":"mysql","custom_details":{"free space":"1%"}},"links":[{"href":"http://x"}]}
            """);
        Assert.Equal(HttpStatusCode.Accepted, trigger.StatusCode);
        using (var j = JsonDocument.Parse(await trigger.Content.ReadAsStringAsync()))
        {
            Assert.Equal("success", j.RootElement.GetProperty("status").GetString());
            Assert.Equal("Event processed", j.RootElement.GetProperty("message").GetString());
            Assert.Equal("srv01/mysql", j.RootElement.GetProperty("dedup_key").GetString());
        }
        await SaysAsync("URGENT prod-datapipe03.example.com - DISK at 99% on machine prod-datapipe03");

        var ack = await PostJsonAsync("/v2/enqueue", $$$"""{"routing_key":"{{{Token}}}","event_action":"acknowledge","dedup_key":"srv01/mysql"}""");
        Assert.Equal(HttpStatusCode.Accepted, ack.StatusCode);
        await SaysAsync("acknowledged by pagerduty: prod-datapipe03.example.com - DISK at 99%");
        var resolve = await PostJsonAsync("/v2/enqueue", $$$"""{"routing_key":"{{{Token}}}","event_action":"resolve","dedup_key":"srv01/mysql"}""");
        Assert.Equal(HttpStatusCode.Accepted, resolve.StatusCode);
        await SaysAsync("RESOLVED prod-datapipe03.example.com - DISK at 99% on machine prod-datapipe03");

        // A trigger without a dedup_key gets one made up and returned, as PagerDuty does.
        var keyless = await PostJsonAsync("/v2/enqueue", $$$"""
            {"routing_key":"{{{Token}}}","event_action":"trigger","payload":{"summary":"s","severity":"info","source":"h"}}
            """);
        Assert.Equal(HttpStatusCode.Accepted, keyless.StatusCode);
        Assert.Matches("\"dedup_key\":\"[0-9a-f]{32}\"", await keyless.Content.ReadAsStringAsync());

        var invalid = await PostJsonAsync("/v2/enqueue", $$$"""{"routing_key":"{{{Token}}}","event_action":"trigger","payload":{"summary":"s","severity":"bad"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        using (var j = JsonDocument.Parse(await invalid.Content.ReadAsStringAsync()))
        {
            Assert.Equal("invalid event", j.RootElement.GetProperty("status").GetString());
            var errors = j.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Contains("'payload.source' is missing or blank", errors);
            Assert.Contains("'payload.severity' must be one of critical, error, warning, info", errors);
        }
        var unparsable = await PostJsonAsync("/v2/enqueue", "nope");
        Assert.Equal(HttpStatusCode.BadRequest, unparsable.StatusCode);
        Assert.Contains("\"Unrecognized object\"", await unparsable.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostJsonAsync("/v2/enqueue", """{"routing_key":"wrong","event_action":"resolve","dedup_key":"k"}""")).StatusCode);
    }
}

/// <summary>The same, against the deployed native executable.</summary>
public sealed class EcosystemEndToEndNativeTests : EcosystemEndToEndTests
{
    protected override bool Native => true;
}
