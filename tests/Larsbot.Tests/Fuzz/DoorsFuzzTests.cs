using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Larsbot.Acks;
using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Microsoft.AspNetCore.WebUtilities;
using Xunit.Abstractions;

namespace Larsbot.Tests.Fuzz;

/// <summary>
/// 10,000 malformed inputs each through the other doors of the real host (/v2/enqueue, /api/alertmanager,
/// /twilio/sms with its signature checked, /ack): no connection dropped, no 5xx, and the rows added (alerts, alert
/// events, acks) are exactly those the accepted answers account for, so nothing is stored from a refused request.
/// </summary>
public sealed class DoorsFuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Inputs = 10_000;
    private const string Token = "fuzz-token-0123456789abcdef";
    private const string AckToken = "fuzz-ack-token-0123456789";
    private const string Phone = "+61400000001"; // brong in roster.sample.json
    private BotRig _rig = null!;
    private RunningBot _bot = null!;

    public async Task InitializeAsync()
    {
        _rig = await BotRig.StartAsync();
        var s = _rig.Settings;
        s["Intake:PerHostBurst"] = s["Intake:PerHostPerMinute"] = s["Intake:PerCallerBurst"] = s["Intake:PerCallerPerMinute"] = "1000000";
        s["Intake:AllowLoopbackWithoutToken"] = "false";
        s["Intake:Tokens:0:Name"] = "fuzz";
        s["Intake:Tokens:0:Token"] = Token;
        s["Acks:Tokens:0:Token"] = AckToken;
        s["Acks:Tokens:0:Person"] = "brong";
        _bot = await RunningBot.StartAsync(s);
    }

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(_bot, _rig);
    }

    private Task<long> RowsAsync() =>
        _rig.Db.ScalarAsync<long>("SELECT (SELECT COUNT(*) FROM alerts) + (SELECT COUNT(*) FROM alert_events) + (SELECT COUNT(*) FROM acks)");

    /// <summary>Sends the inputs 8 at a time; <paramref name="stored"/> says how many rows an answer accounts for.</summary>
    private async Task RunAsync(string door, Func<Random, int, HttpRequestMessage> input, Func<HttpStatusCode, string, int> stored)
    {
        var before = await RowsAsync();
        var statuses = new ConcurrentDictionary<int, int>();
        long accounted = 0;
        var failures = 0;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await Parallel.ForAsync(0, Inputs, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            try
            {
                using var req = input(new Random(i), i);
                using var resp = await _bot.Http.SendAsync(req, ct);
                statuses.AddOrUpdate((int)resp.StatusCode, 1, (_, n) => n + 1);
                Interlocked.Add(ref accounted, stored(resp.StatusCode, await resp.Content.ReadAsStringAsync(ct)));
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref failures);
            }
        });
        var added = await RowsAsync() - before;
        var fiveXx = statuses.Where(kv => kv.Key >= 500).Sum(kv => kv.Value);
        output.WriteLine($"FUZZ {door}: inputs={Inputs} in {sw.Elapsed.TotalSeconds:0.0} s statuses={string.Join(",", statuses.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{kv.Value}"))} " +
                         $"5xx={fiveXx} connection-failures={failures} rows-added={added} accounted-for={accounted}");
        Assert.Equal(Inputs, statuses.Values.Sum());
        Assert.Equal(0, failures);
        Assert.Equal(0, fiveXx);
        Assert.Equal(accounted, added);
        Assert.True(accounted > 50, "the generator should produce accepted inputs too");
        Assert.NotEqual(HttpStatusCode.InternalServerError, (await _bot.Http.GetAsync("/health")).StatusCode);
    }

    private static HttpRequestMessage Post(string path, byte[] body, string? type, string? bearer = null)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        if (type is not null) req.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        if (bearer is not null) req.Headers.TryAddWithoutValidation("Authorization", bearer);
        return req;
    }

    /// <summary>Junk a header can carry: HttpClient refuses to send non-ASCII or control characters in headers at all.</summary>
    private static string HeaderJunk(Random r) =>
        new(FuzzInputs.Text(r, 8).Select(ch => ch is >= ' ' and <= '~' ? ch : (char)r.Next(0x21, 0x7f)).ToArray());

    private static string? JsonType(Random r) => r.Next(8) switch { 0 => "text/plain", 1 => null, _ => "application/json" };

    private static string SomeToken(Random r) => r.Next(6) switch { 0 => "wrong-token-0123456789abc", 1 => HeaderJunk(r), _ => Token };

    private static byte[] Mangle(Random r, byte[] json) => r.Next(6) switch
    {
        0 => json[..r.Next(json.Length + 1)],                // truncated
        1 => FuzzInputs.Bytes(r, 300),                        // noise
        2 => Encoding.UTF8.GetBytes(r.Next(3) switch { 0 => "[]", 1 => "42", _ => new string('[', 5000) }),
        _ => json,
    };

    [Fact]
    public Task PagerDuty_events() => RunAsync("/v2/enqueue", (r, i) =>
    {
        if (i % 5000 == 11) return Post("/v2/enqueue", new byte[10 * 1024 * 1024], "application/json");
        var action = r.Next(5) switch { 0 => "resolve", 1 => "acknowledge", 2 => FuzzInputs.Text(r, 2), _ => "trigger" };
        object? payload = r.Next(6) switch
        {
            0 => null,
            1 => FuzzInputs.Text(r, 5),
            _ => new Dictionary<string, object?>
            {
                ["summary"] = r.Next(8) == 0 ? null : FuzzInputs.Text(r, 30),
                ["source"] = r.Next(3) == 0 ? FuzzInputs.Text(r, 4) : "h" + r.Next(50),
                ["severity"] = r.Next(4) == 0 ? FuzzInputs.Text(r, 2) : new[] { "critical", "error", "warning", "info" }[r.Next(4)],
            },
        };
        var doc = new Dictionary<string, object?>
        {
            ["routing_key"] = SomeToken(r), ["event_action"] = action, ["payload"] = payload,
            ["dedup_key"] = r.Next(4) == 0 ? null : r.Next(2) == 0 ? "k" + r.Next(100) : FuzzInputs.Text(r, 10),
        };
        return Post("/v2/enqueue", Mangle(r, JsonSerializer.SerializeToUtf8Bytes(doc)), JsonType(r));
    }, (status, _) => status == HttpStatusCode.Accepted ? 1 : 0);  // one alert, or one event

    [Fact]
    public Task Alertmanager_groups() => RunAsync("/api/alertmanager", (r, i) =>
    {
        if (i % 5000 == 11) return Post("/api/alertmanager", new byte[10 * 1024 * 1024], "application/json", "Bearer " + Token);
        var alerts = Enumerable.Range(0, r.Next(0, 6)).Select(_ => (object)new Dictionary<string, object?>
        {
            ["status"] = r.Next(5) == 0 ? FuzzInputs.Text(r, 2) : r.Next(3) == 0 ? "resolved" : "firing",
            ["labels"] = r.Next(8) == 0 ? FuzzInputs.Text(r, 3) : new Dictionary<string, object?>
            {
                ["alertname"] = FuzzInputs.Text(r, 4), ["host"] = r.Next(3) == 0 ? FuzzInputs.Text(r, 4) : "h" + r.Next(50),
                ["severity"] = r.Next(3) == 0 ? (object)r.Next() : FuzzInputs.Text(r, 2),
            },
            ["annotations"] = new Dictionary<string, object?> { ["summary"] = FuzzInputs.Text(r, 30) },
            ["fingerprint"] = r.Next(3) == 0 ? null : "fp" + r.Next(200),
        }).ToList();
        var doc = new Dictionary<string, object?> { ["version"] = "4", ["status"] = "firing", ["alerts"] = r.Next(10) == 0 ? FuzzInputs.Text(r, 3) : alerts };
        return Post("/api/alertmanager", Mangle(r, JsonSerializer.SerializeToUtf8Bytes(doc)), JsonType(r), r.Next(5) == 0 ? HeaderJunk(r) : "Bearer " + SomeToken(r));
    }, (status, body) =>
    {
        if (status != HttpStatusCode.OK) return 0;
        var root = JsonDocument.Parse(body).RootElement;
        return root.GetProperty("firing").GetInt32() + root.GetProperty("resolved").GetInt32();
    });

    [Fact]
    public Task Twilio_sms_replies() => RunAsync("/twilio/sms", (r, i) =>
    {
        var url = new Uri(new Uri(_bot.HttpBase), "/twilio/sms").ToString();
        string body = r.Next(4) switch
        {
            0 => Encoding.Latin1.GetString(FuzzInputs.Bytes(r, 300)),
            1 => FuzzInputs.Text(r, 20),
            // Each reply has its own MessageSid (Twilio's are unique, and one is taken only once).
            _ => $"MessageSid=SM{i:x32}&From={Uri.EscapeDataString(r.Next(3) == 0 ? "+1555" + r.Next(9999) : Phone)}&Body={Uri.EscapeDataString(r.Next(2) == 0 ? "ack" : FuzzInputs.Text(r, 6).Replace('\uD800', 'x').Replace('\uDFFF', 'y'))}" +
                 $"&{Uri.EscapeDataString(FuzzInputs.Text(r, 2).Replace('\uD800', 'x').Replace('\uDFFF', 'y'))}=x",
        };
        var bytes = Encoding.UTF8.GetBytes(body);
        var form = PhoneAcks.FormPairs(Encoding.UTF8.GetString(bytes)); // value by value, as Twilio signs repeated keys
        var signature = r.Next(20) switch
        {
            0 => PhoneAcks.TwilioSignature(FakeProviders.DefaultAuthToken, url, form),   // the real thing: the path past the check runs
            1 => null,
            2 => PhoneAcks.TwilioSignature("not-the-auth-token", url, form),
            _ => r.Next(2) == 0 ? Convert.ToBase64String(FuzzInputs.Bytes(r, 40)) : HeaderJunk(r),
        };
        var req = Post("/twilio/sms", bytes, r.Next(6) == 0 ? HeaderJunk(r) : "application/x-www-form-urlencoded");
        if (signature is not null) req.Headers.TryAddWithoutValidation("X-Twilio-Signature", signature);
        return req;
    }, (status, body) => status == HttpStatusCode.OK && body.Contains("acked", StringComparison.Ordinal) ? 1 : 0);

    [Fact]
    public Task Http_acks() => RunAsync("/ack", (r, i) =>
    {
        if (i % 5000 == 11) return Post("/ack", new byte[10 * 1024 * 1024], "application/x-www-form-urlencoded");
        var token = r.Next(25) == 0 ? AckToken : r.Next(2) == 0 ? "wrong-ack-token-0123456789" : HeaderJunk(r);
        return r.Next(3) switch
        {
            0 => Post("/ack", FuzzInputs.Bytes(r, 200), HeaderJunk(r), r.Next(2) == 0 ? "Bearer " + token : HeaderJunk(r)),
            1 => Post("/ack", Encoding.UTF8.GetBytes("token=" + Uri.EscapeDataString(token) + "&" + FuzzInputs.Text(r, 10)),
                "application/x-www-form-urlencoded"),
            _ => Post("/ack", FuzzInputs.Bytes(r, 100), "application/x-www-form-urlencoded", "Bearer " + token),
        };
    }, (status, _) => status == HttpStatusCode.OK ? 1 : 0);
}
