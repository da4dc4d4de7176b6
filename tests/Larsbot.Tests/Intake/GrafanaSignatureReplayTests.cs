using System.Net;
using System.Security.Cryptography;
using System.Text;
using Larsbot.Intake;
using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Intake;

/// <summary>
/// Grafana's signed webhook with its timestamp header, over real HTTP on the real host: the timestamp is signed with
/// the body, and a signature more than 5 minutes from the bot's clock is refused, so a captured request cannot be
/// sent again later. The bot runs on the system clock; the timestamps are minutes away from it, not milliseconds.
/// </summary>
public sealed class GrafanaSignatureReplayTests : IAsyncLifetime
{
    private const string Secret = "grafana-hmac-secret-0123456789";
    private const string Body = """
        {"version":"1","orgId":1,"status":"firing",
         "alerts":[{"status":"firing","labels":{"alertname":"HighLatency","instance":"api7","severity":"critical"},
                    "annotations":{"summary":"p99 over 2s"},"fingerprint":"feed01"}]}
        """;
    private BotRig _rig = null!;
    private RunningBot _bot = null!;

    public async Task InitializeAsync()
    {
        _rig = await BotRig.StartAsync();
        var settings = _rig.Settings;
        settings["Alertmanager:GrafanaSecret"] = Secret;
        // No way in but the signature: loopback needs a token like anyone else.
        settings["Intake:AllowLoopbackWithoutToken"] = "false";
        settings["Intake:Tokens:0:Token"] = "some-other-token-0123456789";
        _bot = await RunningBot.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(_bot, _rig);
    }

    private static string Sign(string text) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(text)));

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string signature, long? timestamp)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/alertmanager") { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
        req.Headers.Add("X-Grafana-Alerting-Signature", signature);
        if (timestamp is { } ts) req.Headers.Add(AlertmanagerIntake.GrafanaTimestampHeader, ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var r = await _bot.Http.SendAsync(req);
        return (r.StatusCode, await r.Content.ReadAsStringAsync());
    }

    private Task<long> AlertsAsync() => _rig.Db.ScalarAsync<long>("SELECT COUNT(*) FROM alerts");

    [Fact]
    public async Task A_timestamped_signature_is_accepted_only_within_five_minutes_and_only_over_timestamp_and_body()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        // Captured six minutes ago and sent again now, signature and all: refused, nothing stored.
        var stale = now - 6 * 60;
        var (status, body) = await PostAsync(Sign($"{stale}:{Body}"), stale);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("replayed or delayed", body);
        // Nor from ten minutes ahead (a request signed for later use).
        var ahead = now + 10 * 60;
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(Sign($"{ahead}:{Body}"), ahead)).Status);
        // A fresh timestamp bolted onto a signature that does not cover it: refused.
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(Sign(Body), now)).Status);
        // Not a number.
        Assert.Equal(HttpStatusCode.Unauthorized, await PostWithRawTimestampAsync("soon"));
        Assert.Equal(0, await AlertsAsync());

        // What Grafana sends: HMAC over "timestamp:body", timestamp just now.
        (status, body) = await PostAsync(Sign($"{now}:{Body}"), now);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"firing\":1", body);
        Assert.Equal(1, await AlertsAsync());
    }

    [Fact]
    public async Task Without_a_timestamp_header_the_body_signature_still_works_and_a_wrong_one_is_refused()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(new string('0', 64), null)).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(Sign(Body), null)).Status);
    }

    private async Task<HttpStatusCode> PostWithRawTimestampAsync(string raw)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/alertmanager") { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
        req.Headers.Add("X-Grafana-Alerting-Signature", Sign($"{raw}:{Body}"));
        req.Headers.Add(AlertmanagerIntake.GrafanaTimestampHeader, raw);
        return (await _bot.Http.SendAsync(req)).StatusCode;
    }
}
