using Dapper;
using Larsbot.Intake;
using Larsbot.Tests.Paging;

namespace Larsbot.Tests.Intake;

public class AlertIntakeTests
{
    [Theory]
    [InlineData(null, "urgent", "x", "missing host")]
    [InlineData("  ", "urgent", "x", "missing host")]
    [InlineData("gw 2", "urgent", "x", "host must not contain spaces or control characters")]
    [InlineData("gw2", "urgent", "", "missing message")]
    [InlineData("gw2", "urgent", "  \n", "missing message")]
    [InlineData("gw2", "critical", "x", "unknown level 'critical' (use urgent, irc or info)")]
    public async Task Bad_alerts_are_refused_with_a_reason_and_nothing_is_stored(string? host, string? level, string? message, string reason)
    {
        using var h = new EngineHarness();
        var r = await h.Intake.AcceptAsync(new AlertInput(host, level, message), "test");
        Assert.False(r.Ok);
        Assert.Equal(reason, r.Error);
        Assert.Equal(0, await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM alerts")));
    }

    [Fact]
    public async Task Level_is_case_insensitive_defaults_to_urgent_and_the_message_is_stored_whole()
    {
        using var h = new EngineHarness();
        var message = "line1\nline2\r\n\0 " + new string('x', 5000);
        var a = await h.Intake.AcceptAsync(new AlertInput(" gw2 ", "IRC", message), "test");
        var b = await h.Intake.AcceptAsync(new AlertInput("gw2", null, "m"), "test");
        var rows = await h.Db.ReadAsync(async c => (await c.QueryAsync<(long, string, string, string)>("SELECT id, host, level, message FROM alerts ORDER BY id")).ToList());
        // NUL is kept byte for byte in message_raw; the text column shows it as a literal \0.
        Assert.Equal((a.Id!.Value, "gw2", "irc", message.Replace("\0", "\\0")), rows[0]);
        var raw = await h.Db.ReadAsync(c => c.ExecuteScalarAsync<byte[]>("SELECT message_raw FROM alerts WHERE id = @id", new { id = a.Id }));
        Assert.Equal(message, System.Text.Encoding.UTF8.GetString(raw!));
        Assert.Equal((b.Id!.Value, "gw2", "urgent", "m"), rows[1]);
    }

    [Fact]
    public async Task A_key_or_an_events_host_with_a_NUL_is_refused_and_nothing_is_stored()
    {
        // PostgreSQL text cannot hold a NUL (the write failed, answered 503 for ever), and a key is an identifier,
        // not text to keep byte for byte: refused alike on both providers.
        using var h = new EngineHarness();
        var alert = await h.Intake.AcceptAsync(new AlertInput("db1", "urgent", "disk full") { Key = "db1\0disk" }, "test");
        Assert.Equal((false, "key must not contain a NUL character"), (alert.Ok, alert.Error));
        foreach (var kind in new[] { "resolve", "acknowledge" })
        {
            var e = await h.Intake.RecordEventAsync(kind, "db1\0disk", null, null, "test");
            Assert.Equal((false, "key must not contain a NUL character"), (e.Ok, e.Error));
        }
        // Nor may a resolve name a host no alert can have (the same rule as an alert's host).
        var host = await h.Intake.RecordEventAsync("resolve", null, "db\01", "disk full", "test");
        Assert.Equal((false, "host must not contain spaces or control characters"), (host.Ok, host.Error));
        Assert.Equal(0, await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT (SELECT COUNT(*) FROM alerts) + (SELECT COUNT(*) FROM alert_events)")));
    }

    [Fact]
    public async Task A_resolve_by_text_with_a_NUL_is_stored_and_ends_the_alert_of_that_text()
    {
        // The alert's text is stored with its NUL shown as \0; the resolve's text is stored the same way, so it matches
        // (and PostgreSQL, whose text cannot hold a NUL, stores it at all).
        using var h = new EngineHarness();
        var alert = await h.Intake.AcceptAsync(new AlertInput("web1", "irc", "load\0high"), "test");
        Assert.True(alert.Ok, alert.Error);
        await h.Engine.RunDueAsync();
        var resolve = await h.Intake.RecordEventAsync("resolve", null, "web1", "load\0high", "test");
        Assert.True(resolve.Ok, resolve.Error);
        await h.Engine.RunDueAsync();
        Assert.Equal(1L, await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT matched FROM alert_events")));
        Assert.NotNull(await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long?>("SELECT resolved_at FROM alerts WHERE id = @id", new { id = alert.Id })));
    }
}
