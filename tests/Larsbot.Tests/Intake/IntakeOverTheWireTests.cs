using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Intake;

/// <summary>HTTP and TCP intake through real sockets: what curl and netcat users get back, and what is stored.</summary>
public sealed class IntakeOverTheWireTests : IAsyncLifetime
{
    private BotRig _rig = null!;
    private NgircdServer _irc = null!;
    private FakeProviders _providers = null!;
    private TempDatabase _db = null!;
    private RunningBot _bot = null!;

    public async Task InitializeAsync()
    {
        _rig = await BotRig.StartAsync();
        (_irc, _providers, _db, _) = _rig;
        _bot = await RunningBot.StartAsync(RunningBot.Settings(_irc.Port, _providers, _db));
    }

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(_bot, _rig);
    }

    private Task<long> StoredCountAsync() => _db.ScalarAsync<long>("SELECT COUNT(*) FROM alerts");

    private static async Task<(HttpStatusCode, string)> ReadAsync(HttpResponseMessage r) => (r.StatusCode, await r.Content.ReadAsStringAsync());

    [Fact]
    public async Task Form_and_json_alerts_get_202_with_the_stored_id()
    {
        var form = await ReadAsync(await _bot.Http.PostAsync("/alerts", new FormUrlEncodedContent(new Dictionary<string, string>
            { ["host"] = "gateway2", ["level"] = "urgent", ["message"] = "rblcheck: listed" })));
        Assert.Equal(HttpStatusCode.Accepted, form.Item1);
        var json = await ReadAsync(await _bot.Http.PostAsync("/alerts",
            new StringContent("""{"host":"db1","level":"irc","message":"lag"}""", Encoding.UTF8, "application/json")));
        Assert.Equal(HttpStatusCode.Accepted, json.Item1);
        var id1 = JsonDocument.Parse(form.Item2).RootElement.GetProperty("id").GetInt64();
        var id2 = JsonDocument.Parse(json.Item2).RootElement.GetProperty("id").GetInt64();
        Assert.Equal(id1 + 1, id2);
        Assert.Equal(2, await StoredCountAsync());
    }

    [Theory]
    [InlineData("level=urgent&message=x", "missing host")]
    [InlineData("host=gw2&level=urgent", "missing message")]
    [InlineData("host=gw2&level=loud&message=x", "unknown level 'loud' (use urgent, irc or info)")]
    public async Task Bad_form_alerts_get_400_with_one_line_reason(string body, string reason)
    {
        var (status, text) = await ReadAsync(await _bot.Http.PostAsync("/alerts",
            new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded")));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(reason, JsonDocument.Parse(text).RootElement.GetProperty("error").GetString());
        Assert.DoesNotContain('\n', text);
        Assert.Equal(0, await StoredCountAsync());
    }

    [Fact]
    public async Task Bodies_over_64_KiB_bad_json_and_other_types_are_refused()
    {
        var big = "host=gw2&level=urgent&message=" + new string('x', 64 * 1024);
        var (s1, t1) = await ReadAsync(await _bot.Http.PostAsync("/alerts", new StringContent(big, Encoding.UTF8, "application/x-www-form-urlencoded")));
        Assert.Equal(HttpStatusCode.BadRequest, s1);
        Assert.Contains("body over 65536 bytes", t1);

        var (s2, t2) = await ReadAsync(await _bot.Http.PostAsync("/alerts", new StringContent("{\"host\":", Encoding.UTF8, "application/json")));
        Assert.Equal(HttpStatusCode.BadRequest, s2);
        Assert.Contains("body is not valid JSON", t2);

        var (s3, t3) = await ReadAsync(await _bot.Http.PostAsync("/alerts", new StringContent("""{"host":5,"message":"x"}""", Encoding.UTF8, "application/json")));
        Assert.Equal(HttpStatusCode.BadRequest, s3);
        Assert.Contains("'host' must be a string", t3);

        var (s4, _) = await ReadAsync(await _bot.Http.PostAsync("/alerts", new StringContent("hi", Encoding.UTF8, "text/plain")));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, s4);

        // Just under the limit is accepted whole.
        var fits = "host=gw2&level=info&message=" + new string('y', 64 * 1024 - 30);
        var (s5, _) = await ReadAsync(await _bot.Http.PostAsync("/alerts", new StringContent(fits, Encoding.UTF8, "application/x-www-form-urlencoded")));
        Assert.Equal(HttpStatusCode.Accepted, s5);
        Assert.Equal(1, await StoredCountAsync());
    }

    [Fact]
    public async Task Tcp_answers_each_line_with_OK_or_ERR()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", _bot.TcpPort);
        var stream = tcp.GetStream();
        var lines = "urgent gateway2 rblcheck: listed\r\nIRC db1 lag 40s\nloud db1 x\nurgent onlyhost\n\n" +
                    "info big " + new string('z', 70 * 1024) + "\ninfo after the long one\n";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(lines));
        await stream.WriteAsync(new byte[] { (byte)'i', (byte)'r', (byte)'c', (byte)' ', (byte)'h', (byte)' ', 0xC3, 0x28, (byte)'\n' });
        using var reader = new StreamReader(stream);
        var answers = new List<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15)); // a missing answer fails, not hangs
        for (var i = 0; i < 8; i++) answers.Add((await reader.ReadLineAsync(cts.Token))!);
        Assert.Matches(@"^OK \d+$", answers[0]);
        Assert.Matches(@"^OK \d+$", answers[1]);
        Assert.Equal("ERR unknown level 'loud' (use urgent, irc or info)", answers[2]);
        Assert.StartsWith("ERR expected: LEVEL host message", answers[3]);
        Assert.StartsWith("ERR empty line", answers[4]);
        Assert.Equal("ERR line over 65536 bytes", answers[5]);
        Assert.Matches(@"^OK \d+$", answers[6]);
        Assert.Equal("ERR line is not valid UTF-8", answers[7]);
        Assert.Equal(3, await StoredCountAsync());
    }

    [Fact]
    public async Task Health_is_503_while_IRC_is_down_and_200_once_joined()
    {
        await _bot.WaitHealthyAsync();
        var ok = await _bot.Http.GetAsync("/health");
        var body = JsonDocument.Parse(await ok.Content.ReadAsStringAsync()).RootElement;
        Assert.True(body.GetProperty("irc").GetProperty("connected").GetBoolean());
        Assert.True(body.GetProperty("database").GetProperty("writable").GetBoolean());

        await _irc.StopAsync();
        HttpResponseMessage r = null!;
        await Eventually.HoldsAsync(async () => (r = await _bot.Http.GetAsync("/health")).StatusCode == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
        Assert.Contains("not connected to IRC", await r.Content.ReadAsStringAsync());

        await _irc.RestartAsync();
        await _bot.WaitHealthyAsync();
    }
}
