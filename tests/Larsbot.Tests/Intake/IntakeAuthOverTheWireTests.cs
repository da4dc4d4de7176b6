using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Intake;

/// <summary>Tokens, networks and the per-host limit through real sockets, against the real host.</summary>
public sealed class IntakeAuthOverTheWireTests : BotsOnOneIrc
{
    private static Dictionary<string, string?> TokensOnly() => new()
    {
        ["Intake:AllowLoopbackWithoutToken"] = "false",
        ["Intake:Tokens:0:Name"] = "shared",
        ["Intake:Tokens:0:Token"] = Shared,
        ["Intake:Tokens:1:Name"] = "gateways",
        ["Intake:Tokens:1:Token"] = Gateways,
        ["Intake:Tokens:1:Hosts:0"] = "gateway*",
    };

    private static Task<long> CountAsync(TempDatabase db, string where = "1=1") =>
        db.ScalarAsync<long>($"SELECT COUNT(*) FROM alerts WHERE {where}");

    private static async Task<(HttpStatusCode Status, string Error)> PostAsync(RunningBot bot, HttpContent content, string? bearer = null)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "/alerts") { Content = content };
        if (bearer is not null) req.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        var r = await bot.Http.SendAsync(req);
        var text = await r.Content.ReadAsStringAsync();
        var error = r.StatusCode == HttpStatusCode.Accepted ? "" : JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!;
        return (r.StatusCode, error);
    }

    private static FormUrlEncodedContent Form(string host, string? token = null, string level = "irc")
    {
        var d = new Dictionary<string, string> { ["host"] = host, ["level"] = level, ["message"] = "disk 91%" };
        if (token is not null) d["token"] = token;
        return new FormUrlEncodedContent(d);
    }

    [Fact]
    public async Task Http_needs_a_valid_token_as_bearer_or_field_and_a_bound_token_only_speaks_for_its_hosts()
    {
        var (bot, db) = await StartAsync(TokensOnly());
        Assert.Equal((HttpStatusCode.Unauthorized, "missing token: send 'Authorization: Bearer <token>' or a 'token' field"), await PostAsync(bot, Form("db1")));
        Assert.Equal((HttpStatusCode.Unauthorized, "bad token"), await PostAsync(bot, Form("db1"), bearer: "wrong-token-0123456789"));
        // A stranger's garbage gets 401, not a description of what was wrong with it.
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(bot, new StringContent("{\"host\":", Encoding.UTF8, "application/json"))).Status);

        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(bot, Form("db1"), bearer: Shared)).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(bot, Form("db1", token: Shared))).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(bot,
            new StringContent($$"""{"host":"gateway2","message":"x","level":"irc","token":"{{Gateways}}"}""", Encoding.UTF8, "application/json"))).Status);
        Assert.Equal((HttpStatusCode.Forbidden, "this token may not send alerts for host 'db1'"), await PostAsync(bot, Form("db1"), bearer: Gateways));
        Assert.Equal(3, await CountAsync(db));
    }

    [Fact]
    public async Task Tcp_takes_AUTH_as_the_first_line_and_closes_after_a_refusal()
    {
        var (bot, db) = await StartAsync(TokensOnly());
        Assert.Equal(["ERR 401 missing token: send 'AUTH <token>' as the first line"], await TcpAsync(bot, "urgent db1 x"));
        Assert.Equal(["ERR 401 bad token"], await TcpAsync(bot, "AUTH wrong-token-0123456789", "urgent db1 x"));
        var answers = await TcpAsync(bot, $"AUTH {Gateways}", "irc gateway2 fan", "irc db1 fan");
        Assert.Equal("OK auth", answers[0]);
        Assert.Matches(@"^OK \d+$", answers[1]);
        Assert.Equal("ERR 403 this token may not send alerts for host 'db1'", answers[2]);
        Assert.Equal(1, await CountAsync(db));
    }

    [Fact]
    public async Task Addresses_outside_the_allowed_networks_get_403_on_both_intakes()
    {
        var (bot, db) = await StartAsync(new() { ["Intake:AllowLoopbackWithoutToken"] = "false", ["Intake:AllowedNetworks:0"] = "10.0.0.0/8" });
        Assert.Equal((HttpStatusCode.Forbidden, "address 127.0.0.1 is not in Intake:AllowedNetworks"), await PostAsync(bot, Form("db1")));
        Assert.Equal(["ERR 403 address 127.0.0.1 is not in Intake:AllowedNetworks"], await TcpAsync(bot, "urgent db1 x"));
        Assert.Equal(0, await CountAsync(db));

        var (open, _) = await StartAsync(new() { ["Intake:AllowLoopbackWithoutToken"] = "false", ["Intake:AllowedNetworks:0"] = "127.0.0.0/8" });
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(open, Form("db1"))).Status);
    }

    [Fact]
    public async Task A_flooding_host_gets_429_with_Retry_After_and_the_channel_one_line_that_pages_when_urgent()
    {
        var (bot, db) = await StartAsync(new()
        {
            ["Intake:PerHostBurst"] = "3",
            ["Intake:PerHostPerMinute"] = "1",
            ["Intake:FloodReportAfter"] = "00:00:00.300",
        });
        await bot.WaitHealthyAsync();
        await using var watcher = await RawIrcClient.ConnectAsync(Irc.Port, "watcher");
        await watcher.JoinAsync(RunningBot.Channel);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 13; i++)
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, "/alerts") { Content = Form("gateway2", level: i == 12 ? "urgent" : "irc") };
            var r = await bot.Http.SendAsync(req);
            statuses.Add(r.StatusCode);
            if (r.StatusCode == HttpStatusCode.TooManyRequests)
                Assert.True(r.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 must carry Retry-After");
        }
        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.Accepted));
        Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        // Another host is not held back by gateway2's flood; TCP shares the same limit.
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(bot, Form("db1"))).Status);
        Assert.StartsWith("ERR 429 rate limited", (await TcpAsync(bot, "irc gateway2 more"))[0]);

        var line = await watcher.WaitForLineAsync(l => l.Contains("gateway2 - flooding:"), TimeSpan.FromSeconds(10));
        Assert.Contains("URGENT gateway2 - flooding: 11 alerts held back", line);
        Assert.Contains("1 urgent", line);
        Assert.Equal(1, await CountAsync(db, "source = 'flood' AND level = 'urgent'"));
        Assert.Equal(3, await CountAsync(db, "host = 'gateway2' AND source <> 'flood'"));
        // The urgent report starts a countdown like any urgent alert: held back is never silently lost.
        await watcher.WaitForLineAsync(l => l.Contains("LarsSMS:") && l.Contains("flooding"), TimeSpan.FromSeconds(10));
    }

    private static async Task<List<string>> TcpAsync(RunningBot bot, params string[] lines)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", bot.TcpPort);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n"));
        using var reader = new StreamReader(stream);
        var answers = new List<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (answers.Count < lines.Length && await reader.ReadLineAsync(cts.Token) is { } a) answers.Add(a);
        return answers;
    }
}
