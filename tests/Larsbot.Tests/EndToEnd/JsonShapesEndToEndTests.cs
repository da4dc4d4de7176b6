using System.Net;
using System.Text;
using System.Text.Json;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.EndToEnd;

/// <summary>
/// The JSON the HTTP doors answer with, as clients read it: property names, their order, nulls written out, and the
/// text as written (' &lt; &gt; and non-ASCII letters unescaped). The arbiter reads /health, scripts /status.json,
/// PagerDuty and Alertmanager senders their own answers; a renamed or dropped property breaks them silently.
/// </summary>
public sealed class JsonShapesEndToEndTests : IAsyncLifetime
{
    private const string AckToken = "robn-ack-token-0123456789";
    private BotRig _rig = null!;
    private RunningBot _bot = null!;

    public async Task InitializeAsync()
    {
        _rig = await BotRig.StartAsync();
        var settings = _rig.Settings;
        settings["Acks:Tokens:0:Token"] = AckToken;
        settings["Acks:Tokens:0:Person"] = "robn";
        settings["Intake:AllowedHosts:0"] = "bot.example";
        settings["Paging:Countdown"] = "00:10:00";
        _bot = await RunningBot.StartAsync(settings);
        await _bot.WaitHealthyAsync();
    }

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(_bot, _rig);
    }

    private static string[] Keys(JsonElement e) => e.EnumerateObject().Select(p => p.Name).ToArray();

    private async Task<(HttpStatusCode Status, string Type, string Body)> SendAsync(HttpMethod method, string path, string? body = null,
        string type = "application/json", string? authorization = null, string? host = null)
    {
        using var req = new HttpRequestMessage(method, path);
        if (body is not null) req.Content = new StringContent(body, Encoding.UTF8, type);
        if (authorization is not null) req.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (host is not null) req.Headers.Host = host;
        using var r = await _bot.Http.SendAsync(req);
        return (r.StatusCode, r.Content.Headers.ContentType?.ToString() ?? "", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_and_status_json_keep_their_property_names()
    {
        var (status, type, body) = await SendAsync(HttpMethod.Get, "/health");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("application/json; charset=utf-8", type);
        var health = JsonDocument.Parse(body).RootElement;
        Assert.Equal(["status", "problems", "irc", "database", "engine", "sender", "pages", "role", "leader"], Keys(health));
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Array, health.GetProperty("problems").ValueKind);
        Assert.Equal(["connected", "nick"], Keys(health.GetProperty("irc")));
        Assert.Equal(["ok", "writable"], Keys(health.GetProperty("database")));
        Assert.Equal(["ok", "lastLoopAgeSeconds"], Keys(health.GetProperty("engine")));
        Assert.Equal(["ok", "lastPassAgeSeconds"], Keys(health.GetProperty("sender")));
        Assert.Equal(["retrying", "failingLong", "gaveUpLastHour", "duplicateRisk"], Keys(health.GetProperty("pages")));
        // One SQLite instance always leads; the name is Leadership:Name (the machine's by default). On PostgreSQL the
        // lone instance leads too (WaitHealthyAsync waited for it), sharing the database with any standby.
        Assert.Equal("leader", health.GetProperty("role").GetString());
        Assert.Equal(["name", "seenAgoSeconds", "shared"], Keys(health.GetProperty("leader")));
        Assert.Equal(_rig.Db.ConnectionString is not null, health.GetProperty("leader").GetProperty("shared").GetBoolean());

        await _bot.PostAlertAsync("db1", "urgent", "disk <full> & 'hot' é");
        // The 202 comes at the commit; the engine opens the page a pass later.
        var json = default(JsonElement);
        await Eventually.TrueAsync(async () =>
        {
            json = JsonDocument.Parse(await _bot.Http.GetStringAsync("/status.json")).RootElement;
            return json.GetProperty("open").GetArrayLength() > 0;
        }, what: "the page never showed in /status.json");
        Assert.Equal(["now", "mode", "duty", "open", "recent", "silences"], Keys(json));
        // Outside ack mode the mode object still names every field, with nulls.
        Assert.Equal("""{"name":"normal","ackedBy":null,"person":null,"until":null}""", json.GetProperty("mode").GetRawText());
        var open = json.GetProperty("open")[0];
        Assert.Equal(["id", "state", "deadline", "secondsLeft", "alerts", "pages"], Keys(open));
        Assert.Equal(["id", "host", "message"], Keys(open.GetProperty("alerts")[0]));
        var recent = json.GetProperty("recent")[0];
        Assert.Equal(["id", "receivedAt", "host", "level", "message", "state", "ackedBy"], Keys(recent));
        Assert.Equal("\"disk <full> & 'hot' é\"", recent.GetProperty("message").GetRawText());
    }

    [Fact]
    public async Task Refusals_are_one_error_property_written_as_before()
    {
        const string bearer = """{"error":"Authorization must be 'Bearer <token>'"}""";
        Assert.Equal((HttpStatusCode.Unauthorized, "application/json; charset=utf-8", bearer),
            await SendAsync(HttpMethod.Post, "/alerts", "host=db1&level=info&message=x", "application/x-www-form-urlencoded", "Basic x"));
        Assert.Equal((HttpStatusCode.BadRequest, "application/json; charset=utf-8", """{"error":"unknown level 'loüd' (use urgent, irc or info)"}"""),
            await SendAsync(HttpMethod.Post, "/alerts", """{"host":"db1","level":"loüd","message":"x"}"""));
        Assert.Equal((HttpStatusCode.Unauthorized, "application/json; charset=utf-8", bearer),
            await SendAsync(HttpMethod.Get, "/metrics", authorization: "Basic x"));
        Assert.Equal((HttpStatusCode.Unauthorized, "application/json; charset=utf-8", """{"error":"bad token"}"""),
            await SendAsync(HttpMethod.Post, "/ack", authorization: "Bearer not-a-token"));
        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "application/json; charset=utf-8", """{"error":"Content-Type must be application/json (got 'text/plain; charset=utf-8')"}"""),
            await SendAsync(HttpMethod.Post, "/api/alertmanager", "{}", "text/plain"));
        Assert.Equal((HttpStatusCode.BadRequest, "application/json; charset=utf-8", """{"error":"unknown Host 'evil.example' (not in Intake:AllowedHosts)"}"""),
            await SendAsync(HttpMethod.Get, "/health", host: "evil.example"));
        Assert.Equal((HttpStatusCode.BadRequest, "application/json; charset=utf-8",
                """{"status":"invalid event","message":"Event object is invalid","errors":["'event_action' must be one of trigger, acknowledge, resolve"]}"""),
            await SendAsync(HttpMethod.Post, "/v2/enqueue", """{"routing_key":"x","event_action":"nope"}"""));
    }

    [Fact]
    public async Task Accepted_answers_keep_their_property_names()
    {
        var (status, _, body) = await SendAsync(HttpMethod.Post, "/alerts", """{"host":"db1","level":"info","message":"x"}""");
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(["id"], Keys(JsonDocument.Parse(body).RootElement));

        Assert.Equal((HttpStatusCode.Accepted, "application/json; charset=utf-8", """{"status":"success","message":"Event processed","dedup_key":"db2/disk"}"""),
            await SendAsync(HttpMethod.Post, "/v2/enqueue",
                """{"routing_key":"x","event_action":"trigger","dedup_key":"db2/disk","payload":{"summary":"disk","source":"db2","severity":"info"}}"""));
        Assert.Equal((HttpStatusCode.OK, "application/json; charset=utf-8", """{"status":"success","firing":1,"resolved":0}"""),
            await SendAsync(HttpMethod.Post, "/api/alertmanager", """{"alerts":[{"status":"firing","labels":{"alertname":"A","instance":"db3","severity":"info"}}]}"""));
        Assert.Equal((HttpStatusCode.OK, "application/json; charset=utf-8", """{"acked":true,"person":"robn"}"""),
            await SendAsync(HttpMethod.Post, "/ack", authorization: "Bearer " + AckToken));
    }

    [Fact]
    public async Task Intake_answers_are_sent_whole_with_their_length()
    {
        // One buffer with a Content-Length, not a chunked stream: the sender reads a known number of bytes.
        foreach (var (path, body, type) in new[]
                 {
                     ("/alerts", "host=db1&level=info&message=x", "application/x-www-form-urlencoded"),
                     ("/alerts", """{"host":"db1","level":"loüd","message":"x"}""", "application/json"),
                     ("/api/alertmanager", """{"alerts":[{"status":"firing","labels":{"alertname":"A","instance":"db3","severity":"info"}}]}""", "application/json"),
                     ("/v2/enqueue", """{"routing_key":"x","event_action":"trigger","dedup_key":"db2/x","payload":{"summary":"x","source":"db2","severity":"info"}}""", "application/json"),
                 })
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, type) };
            using var r = await _bot.Http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
            var bytes = await r.Content.ReadAsByteArrayAsync();
            Assert.True(bytes.Length > 0, path);
            Assert.Equal(bytes.Length, r.Content.Headers.ContentLength);
            Assert.NotEqual(true, r.Headers.TransferEncodingChunked);
        }
    }
}
