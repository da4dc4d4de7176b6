using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Dapper;
using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.StatusPage;

/// <summary>
/// Read-only viewer tokens (StatusPage:Tokens), over real HTTP and TCP on the real, locked-down host: the link given
/// to a manager opens the status page, the live poll and the reports, and is refused at every door that pages or
/// acks. Intake tokens keep opening the page.
/// </summary>
public sealed class StatusPageViewerTests : IAsyncLifetime
{
    private const string Viewer = "manager-viewer-0123456789abcdef";
    private const string Intake = "monitoring-token-0123456789abcdef";
    private const string AckToken = "brong-ack-token-0123456789abcdef";
    private BotRig _rig = null!;
    private RunningBot _bot = null!;

    public async Task InitializeAsync()
    {
        _rig = await BotRig.StartAsync();
        var reports = Path.Combine(_rig.Db.Dir, "reports");
        Directory.CreateDirectory(reports);
        await File.WriteAllTextAsync(Path.Combine(reports, "payout-2026-10.html"), "<h1>October</h1>");
        var s = _rig.Settings;
        s["Ledger:ReportFolder"] = reports;
        s["Intake:AllowLoopbackWithoutToken"] = "false";
        s["Intake:Tokens:0:Name"] = "monitoring";
        s["Intake:Tokens:0:Token"] = Intake;
        s["StatusPage:Tokens:0:Name"] = "manager";
        s["StatusPage:Tokens:0:Token"] = Viewer;
        s["Acks:Tokens:0:Token"] = AckToken;
        s["Acks:Tokens:0:Person"] = "brong";
        s["Pushover:Priority"] = "2";
        s["Pushover:CallbackSecret"] = "pushover-callback-0123456789";
        _bot = await RunningBot.StartAsync(s);
    }

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(_bot, _rig);
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? bearer, HttpContent? content = null)
    {
        var req = new HttpRequestMessage(method, path) { Content = content };
        if (bearer is not null) req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return _bot.Http.SendAsync(req);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_viewer_token_opens_every_page_and_no_door_that_pages_or_acks()
    {
        foreach (var path in new[] { "/", "/live", "/status.json", "/reports/payout-2026-10.html" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await _bot.Http.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await _bot.Http.GetAsync(path + "?token=" + Viewer)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, path, Viewer)).StatusCode);
            // Intake tokens still open it.
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, path, Intake)).StatusCode);
        }
        // The page's links and its poll of /live carry the token it was opened with.
        var html = await _bot.Http.GetStringAsync("/?token=" + Viewer);
        Assert.Contains($"reports/payout-2026-10.html?token={Viewer}", html);
        Assert.Contains("fetch('live' + location.search", html);

        // Every door that pages or acks refuses it.
        var alert = new Dictionary<string, string> { ["host"] = "db1", ["level"] = "urgent", ["message"] = "manager was here" };
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Post, "/alerts", Viewer, new FormUrlEncodedContent(alert))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _bot.Http.PostAsync("/alerts", new FormUrlEncodedContent(new Dictionary<string, string>(alert) { ["token"] = Viewer }))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _bot.Http.PostAsync("/alerts?token=" + Viewer, new FormUrlEncodedContent(alert))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Post, "/api/alertmanager", Viewer,
            Json("""{"alerts":[{"status":"firing","labels":{"alertname":"X","host":"db1","severity":"critical"}}]}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _bot.Http.PostAsync("/v2/enqueue", Json($$$"""
            {"routing_key":"{{{Viewer}}}","event_action":"trigger","payload":{"summary":"x","source":"db1","severity":"critical"}}
            """))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Post, "/ack", Viewer)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _bot.Http.PostAsync("/pushover/callback/" + Viewer,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["receipt"] = "r", ["acknowledged"] = "1" }))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "/metrics", Viewer)).StatusCode);
        Assert.Equal(["ERR 401 bad token"], await TcpAsync($"AUTH {Viewer}", "urgent db1 manager was here"));

        await using var c = _bot.Connect();
        Assert.Equal(0, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM alerts"));
        Assert.Equal(0, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM acks"));
    }

    private async Task<List<string>> TcpAsync(params string[] lines)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", _bot.TcpPort);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n"));
        using var reader = new StreamReader(stream);
        var answers = new List<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await reader.ReadLineAsync(cts.Token) is { } a) answers.Add(a);
        return answers;
    }

    [Fact]
    public async Task In_a_browser_the_viewer_link_keeps_polling_and_shows_a_new_alert()
    {
        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync(_bot.HttpBase + "/?token=" + Viewer);
        const string conn = "(function () { var e = document.getElementById('conn'); return e ? e.textContent : null; })()";
        await browser.WaitForTextAsync(conn, t => t.StartsWith("live, updated", StringComparison.Ordinal), TimeSpan.FromSeconds(15), "the live poll");

        var r = await SendAsync(HttpMethod.Post, "/alerts", Intake, new FormUrlEncodedContent(new Dictionary<string, string>
            { ["host"] = "web9", ["level"] = "irc", ["message"] = "seen through the viewer link" }));
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        await browser.WaitForTextAsync("document.body.textContent", t => t.Contains("seen through the viewer link"), TimeSpan.FromSeconds(15),
            "the new alert, fetched by the page's poll of /live");
    }
}
