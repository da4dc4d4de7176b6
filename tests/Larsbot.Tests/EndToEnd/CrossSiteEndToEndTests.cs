using System.Net;
using System.Net.Sockets;
using System.Text;
using Larsbot.Tests.Intake;

namespace Larsbot.Tests.EndToEnd;

/// <summary>
/// Issue 15 item 6 (and the /ack body rule of item 3) against the real host: what a web page elsewhere can make a
/// browser send must not page anyone.
/// </summary>
public sealed class CrossSiteEndToEndTests : BotsOnOneIrc
{
    private static HttpRequestMessage Form(string? origin = null, string? host = null)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/alerts")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["host"] = "db1", ["level"] = "urgent", ["message"] = "pwned" }),
        };
        if (origin is not null) req.Headers.Add("Origin", origin);
        if (host is not null) req.Headers.Host = host;
        return req;
    }

    [Fact]
    public async Task A_tokenless_form_post_needs_no_Origin_or_this_servers_own()
    {
        var (bot, db) = await StartAsync();
        var self = new Uri(bot.HttpBase).GetLeftPart(UriPartial.Authority);
        Assert.Equal(HttpStatusCode.Forbidden, (await bot.Http.SendAsync(Form(origin: "http://evil.example"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bot.Http.SendAsync(Form(origin: "null"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bot.Http.SendAsync(Form(origin: "http://127.0.0.1:1"))).StatusCode);
        Assert.Equal(0, await ScalarAsync(db, "SELECT COUNT(*) FROM alerts"));
        Assert.Equal(HttpStatusCode.Accepted, (await bot.Http.SendAsync(Form())).StatusCode); // curl
        Assert.Equal(HttpStatusCode.Accepted, (await bot.Http.SendAsync(Form(origin: self))).StatusCode);
        Assert.Equal(2, await ScalarAsync(db, "SELECT COUNT(*) FROM alerts"));
    }

    [Fact]
    public async Task A_token_is_what_lets_a_form_from_elsewhere_in()
    {
        var settings = TwoTokens();
        settings["Intake:AllowLoopbackWithoutToken"] = "true";
        var (bot, _) = await StartAsync(settings);
        var req = Form(origin: "https://ops-dashboard.example");
        req.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Shared);
        Assert.Equal(HttpStatusCode.Accepted, (await bot.Http.SendAsync(req)).StatusCode);
    }

    [Fact]
    public async Task The_json_doors_refuse_what_a_browser_can_send_cross_site()
    {
        var (bot, db) = await StartAsync();
        var pd = """{"routing_key":"x","event_action":"trigger","dedup_key":"k","payload":{"summary":"pwned","source":"db1","severity":"critical"}}""";
        var am = """{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"Pwned","host":"db1","severity":"critical"}}]}""";
        foreach (var type in new[] { "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x" })
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await PostJsonAsync(bot, "/v2/enqueue", pd, contentType: type)).StatusCode);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await PostJsonAsync(bot, "/api/alertmanager", am, contentType: type)).StatusCode);
        }
        Assert.Equal(0, await ScalarAsync(db, "SELECT COUNT(*) FROM alerts"));
        Assert.Equal(HttpStatusCode.Accepted, (await PostJsonAsync(bot, "/v2/enqueue", pd)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostJsonAsync(bot, "/api/alertmanager", am)).StatusCode);
    }

    [Fact]
    public async Task With_AllowedHosts_set_a_rebound_name_is_refused_and_addresses_still_work()
    {
        var (bot, db) = await StartAsync(new() { ["Intake:AllowedHosts:0"] = "larsbot.example.net" });
        // A DNS-rebinding page: its own name now points at 127.0.0.1, so Origin and Host agree, and both are foreign.
        var rebound = await bot.Http.SendAsync(Form(origin: "http://evil.example:8080", host: "evil.example:8080"));
        Assert.Equal(HttpStatusCode.BadRequest, rebound.StatusCode);
        // Every endpoint, the status page included.
        Assert.Equal(HttpStatusCode.BadRequest, (await bot.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/") { Headers = { Host = "evil.example" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await bot.Http.SendAsync(Form(host: "larsbot.example.net"))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await bot.Http.SendAsync(Form())).StatusCode); // Host: 127.0.0.1:port
        Assert.Equal(2, await ScalarAsync(db, "SELECT COUNT(*) FROM alerts"));
    }

    [Fact]
    public async Task Post_ack_answers_before_reading_a_body_it_does_not_need()
    {
        var (bot, _) = await StartAsync(new() { ["Acks:Tokens:0:Token"] = "ack-token-0123456789abcdef", ["Acks:Tokens:0:Person"] = "brong" });
        var uri = new Uri(bot.HttpBase);
        // Headers promising a megabyte that never comes: the answer must not wait for it.
        async Task<string> StatusLineAsync(string headers)
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(uri.Host, uri.Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /ack HTTP/1.1\r\nHost: {uri.Authority}\r\n{headers}Content-Length: 1000000\r\n\r\n"));
            using var reader = new StreamReader(stream);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            return await reader.ReadLineAsync(cts.Token) ?? "";
        }
        Assert.Equal("HTTP/1.1 401 Unauthorized", await StatusLineAsync("Authorization: Bearer wrong-token-0123456789\r\nContent-Type: application/x-www-form-urlencoded\r\n"));
        Assert.Equal("HTTP/1.1 413 Payload Too Large", await StatusLineAsync("Content-Type: application/x-www-form-urlencoded\r\n"));
        Assert.Equal("HTTP/1.1 401 Unauthorized", await StatusLineAsync("Content-Type: multipart/form-data; boundary=x\r\n"));

        // A form carrying only the token still works.
        var ok = await bot.Http.PostAsync("/ack", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = "ack-token-0123456789abcdef" }));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}
