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
}
