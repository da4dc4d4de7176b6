using System.Net;
using System.Text.Json;

namespace Larsbot.Tests.Intake;

/// <summary>
/// Issue 15 item 2, through real sockets: a token limited to gateway* may trigger, acknowledge or resolve only
/// alerts of gateway* hosts on every door, and by key it is the host of the alerts the key names that counts.
/// </summary>
public sealed class TokenScopeOverTheWireTests : BotsOnOneIrc
{
    private static string Pd(string token, string action, string key, string? source = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["routing_key"] = token, ["event_action"] = action, ["dedup_key"] = key,
            ["payload"] = source is null ? null : new { summary = "disk 97%", source, severity = "critical" },
        });

    private static string Am(string status, string host, string fingerprint) =>
        $$"""{"version":"4","status":"{{status}}","alerts":[{"status":"{{status}}","labels":{"alertname":"Disk","host":"{{host}}","severity":"critical"},"annotations":{"summary":"disk 97%"},"fingerprint":"{{fingerprint}}"}]}""";

    [Fact]
    public async Task A_gateways_token_cannot_resolve_acknowledge_or_reuse_the_key_of_a_db1_alert_on_any_door()
    {
        var (bot, db) = await StartAsync(TwoTokens());
        Assert.Equal(HttpStatusCode.Accepted, (await PostJsonAsync(bot, "/v2/enqueue", Pd(Shared, "trigger", "db1-disk", "db1"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostJsonAsync(bot, "/api/alertmanager", Am("firing", "db1", "f00d"), Shared)).StatusCode);

        // The attack from the issue: resolve (or acknowledge) by dedup_key alone, naming no host.
        var resolve = await PostJsonAsync(bot, "/v2/enqueue", Pd(Gateways, "resolve", "db1-disk"));
        Assert.Equal(HttpStatusCode.Forbidden, resolve.StatusCode);
        Assert.Contains("may not resolve alerts of host 'db1'", await resolve.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await PostJsonAsync(bot, "/v2/enqueue", Pd(Gateways, "acknowledge", "db1-disk"))).StatusCode);
        // Claiming a host of its own does not help: the key names db1's alert.
        Assert.Equal(HttpStatusCode.Forbidden, (await PostJsonAsync(bot, "/v2/enqueue", Pd(Gateways, "trigger", "db1-disk", "gateway2"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostJsonAsync(bot, "/alerts",
            """{"action":"resolve","key":"pd:db1-disk","host":"gateway2"}""", Gateways)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostJsonAsync(bot, "/api/alertmanager", Am("resolved", "gateway2", "f00d"), Gateways)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostJsonAsync(bot, "/api/alertmanager", Am("firing", "gateway2", "f00d"), Gateways)).StatusCode);
        Assert.Equal(["OK auth", "ERR 403 this token may not send alerts for host 'db1'"], await TcpAsync(bot, 2, $"AUTH {Gateways}", "urgent db1 x"));

        // Nothing refused was stored: two alerts, no events.
        Assert.Equal(2, await ScalarAsync(db, "SELECT COUNT(*) FROM alerts"));
        Assert.Equal(0, await ScalarAsync(db, "SELECT COUNT(*) FROM alert_events"));

        // Its own hosts: trigger, acknowledge and resolve by key work, and the events name the host the key is on.
        Assert.Equal(HttpStatusCode.Accepted, (await PostJsonAsync(bot, "/v2/enqueue", Pd(Gateways, "trigger", "gw-fan", "gateway2"))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await PostJsonAsync(bot, "/v2/enqueue", Pd(Gateways, "acknowledge", "gw-fan"))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await PostJsonAsync(bot, "/v2/enqueue", Pd(Gateways, "resolve", "gw-fan"))).StatusCode);
        Assert.Equal(2, await ScalarAsync(db, "SELECT COUNT(*) FROM alert_events WHERE dedup_key = 'pd:gw-fan' AND host = 'gateway2'"));
        // The shared token still may end db1's alert.
        Assert.Equal(HttpStatusCode.Accepted, (await PostJsonAsync(bot, "/v2/enqueue", Pd(Shared, "resolve", "db1-disk"))).StatusCode);
        Assert.Equal(3, await ScalarAsync(db, "SELECT COUNT(*) FROM alert_events"));
    }

    [Fact]
    public async Task Without_tokens_a_routing_key_is_not_a_credential_and_with_tokens_it_must_match_one()
    {
        var (open, openDb) = await StartAsync();
        var r = await PostJsonAsync(open, "/v2/enqueue", Pd("R0UTINGKEY-FROM-SOME-TOOL", "trigger", "k1", "srv01"));
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        Assert.Equal(1, await ScalarAsync(openDb, "SELECT COUNT(*) FROM alerts"));

        var settings = TwoTokens();
        settings["Intake:AllowLoopbackWithoutToken"] = "true";
        var (locked, lockedDb) = await StartAsync(settings);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostJsonAsync(locked, "/v2/enqueue", Pd("R0UTINGKEY-FROM-SOME-TOOL", "trigger", "k1", "srv01"))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await PostJsonAsync(locked, "/v2/enqueue", Pd(Shared, "trigger", "k1", "srv01"))).StatusCode);
        Assert.Equal(1, await ScalarAsync(lockedDb, "SELECT COUNT(*) FROM alerts"));
    }
}
