using Dapper;

namespace Larsbot.Tests.Ledger;

public class PayoutCatchUpTests
{
    [Fact]
    public async Task A_catch_up_of_many_months_writes_every_report_but_says_one_line_for_the_latest_and_one_for_the_rest()
    {
        // Duty since early 2025, first start in November 2026: twenty months are due at once.
        using var h = new LedgerHarness(new DateTimeOffset(2026, 11, 23, 3, 0, 0, TimeSpan.Zero));
        await h.Engine.Db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO duty_changes(at, person_id, by_nick, kind) VALUES (@at, 'brong', 'brong', 'take')",
            new { at = new DateTimeOffset(2025, 3, 10, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() }, tx));
        h.Engine.Channel.Take();

        var ran = await h.Payouts.RunDueAsync();

        Assert.Equal(20, ran.Count);
        Assert.Equal("2025-03", ran[0]);
        Assert.Equal("2026-10", ran[^1]);
        Assert.Equal(60, Directory.GetFiles(h.Options.ReportFolder).Length);
        var said = h.Engine.Channel.Take();
        Assert.Equal(2, said.Count);
        Assert.StartsWith("payout 2026-10 (AUD):", said[0]);
        Assert.StartsWith("payout: also wrote 19 older report(s) (2025-03 to 2026-09)", said[1]);
    }
}
