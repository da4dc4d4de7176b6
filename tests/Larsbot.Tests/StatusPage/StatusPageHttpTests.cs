using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Larsbot.StatusPage;
using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.StatusPage;

/// <summary>The status page over real HTTP on the real host: who may read it, what it answers, which files it serves.</summary>
public sealed class StatusPageHttpTests : IAsyncLifetime
{
    private const string Viewer = "viewer-token-0123456789abcdef";
    private const string GatewayOnly = "gateway-token-0123456789abcdef";
    private NgircdServer _irc = null!;
    private FakeProviders _providers = null!;
    private readonly TempDatabase _db = new();
    private string Reports => Path.Combine(_db.Dir, "reports");

    public async Task InitializeAsync()
    {
        _irc = await NgircdServer.StartAsync();
        _providers = await FakeProviders.StartAsync();
        Directory.CreateDirectory(Reports);
        await File.WriteAllTextAsync(Path.Combine(Reports, "payout-2026-10.html"), "<h1>October</h1>");
        await File.WriteAllTextAsync(Path.Combine(Reports, "payout-2026-10.csv"), "person,total\n");
        await File.WriteAllTextAsync(Path.Combine(Reports, "payout-2026-10.md"), "# October\n");
        await File.WriteAllTextAsync(Path.Combine(Reports, "notes.txt"), "not a report");
        await File.WriteAllTextAsync(Path.Combine(_db.Dir, "secret.txt"), "SECRET");
        File.CreateSymbolicLink(Path.Combine(Reports, "payout-2026-09.html"), Path.Combine(_db.Dir, "secret.txt"));
    }

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(_providers, _irc, _db);
    }

    private Task<RunningBot> StartAsync(params (string Key, string Value)[] extra)
    {
        var settings = RunningBot.Settings(_irc.Port, _providers, _db);
        settings["Ledger:ReportFolder"] = Reports;
        foreach (var (k, v) in extra) settings[k] = v;
        return RunningBot.StartAsync(settings);
    }

    [Fact]
    public async Task Loopback_reads_page_live_part_and_json_without_a_token_with_strict_headers()
    {
        await using var bot = await StartAsync();
        await bot.PostAlertAsync("db1", "urgent", "<b>bold</b> & co");

        var page = await bot.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Matches("script-src 'nonce-[A-Za-z0-9+/=]{24}'", csp);
        Assert.Contains("default-src 'none'", csp);
        Assert.Equal("no-store", page.Headers.CacheControl!.ToString());
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("Larsbot status", html);
        Assert.Contains("&lt;b&gt;bold&lt;/b&gt; &amp; co", html);
        Assert.DoesNotContain("<b>bold</b>", html);
        Assert.Contains("<a href=\"reports/payout-2026-10.html\">html</a>", html);
        Assert.DoesNotContain("notes.txt", html);
        Assert.DoesNotContain("2026-09", html); // a symlink is neither listed nor served

        var live = await bot.Http.GetStringAsync("/live");
        Assert.StartsWith("<div class=\"snap\" data-now=\"", live);

        using var json = JsonDocument.Parse(await bot.Http.GetStringAsync("/status.json"));
        Assert.Equal("normal", json.RootElement.GetProperty("mode").GetProperty("name").GetString());
        var recent = json.RootElement.GetProperty("recent");
        Assert.Equal("<b>bold</b> & co", recent[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task Reports_are_served_by_their_exact_names_and_nothing_else()
    {
        await using var bot = await StartAsync();
        var html = await bot.Http.GetAsync("/reports/payout-2026-10.html");
        Assert.Equal(HttpStatusCode.OK, html.StatusCode);
        Assert.Equal("text/html", html.Content.Headers.ContentType!.MediaType);
        Assert.Contains("sandbox", html.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("<h1>October</h1>", await html.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", (await bot.Http.GetAsync("/reports/payout-2026-10.md")).Content.Headers.ContentType!.MediaType);
        Assert.Equal("text/csv", (await bot.Http.GetAsync("/reports/payout-2026-10.csv")).Content.Headers.ContentType!.MediaType);

        // Raw request lines, so no client normalises the path before the server sees it.
        string[] refused =
        [
            "/reports/..%2Fsecret.txt", "/reports/%2E%2E%2Fsecret.txt", "/reports/..%5Csecret.txt", "/reports/../secret.txt",
            "/reports/%2e%2e/secret.txt", "/reports/notes.txt", "/reports/payout-2026-09.html", "/reports/payout-2026-10.html%00",
            "/reports/payout-2026-10.html%2F..%2F..%2Fsecret.txt", "/reports/payout-2026-13.html", "/reports/PAYOUT-2026-10.HTML",
            "/reports/payout-2026-10.exe", "/reports/%2Fetc%2Fpasswd",
        ];
        var port = new Uri(bot.HttpBase).Port;
        foreach (var path in refused)
        {
            var (status, body) = await RawGetAsync(port, path);
            Assert.True(status is 404 or 400, $"{path}: {status}");
            Assert.DoesNotContain("SECRET", body);
        }
    }

    [Fact]
    public async Task Locked_down_intake_locks_the_page_too_tokens_by_bearer_or_query()
    {
        await using var bot = await StartAsync(
            ("Intake:AllowLoopbackWithoutToken", "false"),
            ("Intake:Tokens:0:Name", "viewer"), ("Intake:Tokens:0:Token", Viewer),
            ("Intake:Tokens:1:Name", "gateways"), ("Intake:Tokens:1:Token", GatewayOnly), ("Intake:Tokens:1:Hosts:0", "gateway*"));

        foreach (var path in new[] { "/", "/live", "/status.json", "/reports/payout-2026-10.html" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await bot.Http.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await bot.Http.GetAsync(path + "?token=wrong-token-0123456789")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await bot.Http.GetAsync(path + "?token=" + GatewayOnly)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await bot.Http.GetAsync(path + "?token=" + Viewer)).StatusCode);
            using var bearer = new HttpRequestMessage(HttpMethod.Get, path);
            bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Viewer);
            Assert.Equal(HttpStatusCode.OK, (await bot.Http.SendAsync(bearer)).StatusCode);
        }
        var body = await (await bot.Http.GetAsync("/")).Content.ReadAsStringAsync();
        Assert.Contains("?token=", body); // the 401 says how to pass one
        Assert.DoesNotContain(Viewer, body);

        // The page's links carry the token the reader came with, so the reports open too.
        var html = await bot.Http.GetStringAsync("/?token=" + Viewer);
        Assert.Contains($"<a href=\"reports/payout-2026-10.html?token={Viewer}\">html</a>", html);
    }

    [Fact]
    public async Task Allowed_networks_without_tokens_refuse_other_addresses_with_403()
    {
        // Loopback stands in for "an address outside the network" once its exemption is off.
        await using var bot = await StartAsync(("Intake:AllowLoopbackWithoutToken", "false"), ("Intake:AllowedNetworks:0", "10.0.0.0/8"));
        var r = await bot.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Contains("Intake:AllowedNetworks", await r.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("payout-2026-10.html", true)]
    [InlineData("payout-1999-12.csv", true)]
    [InlineData("payout-2026-10.md", true)]
    [InlineData("payout-2026-00.md", false)]
    [InlineData("payout-2026-10.html.bak", false)]
    [InlineData("../payout-2026-10.html", false)]
    [InlineData("payout-2026-10.html\n", false)]
    [InlineData("payout-２０２６-10.html", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Report_names_are_exactly_what_the_monthly_job_writes(string? name, bool ok) =>
        Assert.Equal(ok, ReportFiles.IsReportName(name));

    private static async Task<(int Status, string Body)> RawGetAsync(int port, string path)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        var status = int.Parse(text.Split(' ', 3)[1]);
        return (status, text);
    }
}
