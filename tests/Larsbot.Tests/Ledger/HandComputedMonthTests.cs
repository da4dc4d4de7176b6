using Dapper;
using Larsbot.Ledger;
using Larsbot.Tests.Support;
using static Larsbot.Tests.Ledger.LedgerHarness;

namespace Larsbot.Tests.Ledger;

/// <summary>
/// October 2026 in Melbourne (the sample roster's ledger zone), lived through the real engine and commands on a fake
/// clock, then paid out. AUD 40.00 a day, AUD 20.00 a page. Daylight saving starts Sun 4 Oct (02:00 -> 03:00), so
/// that day has 23 hours; the month has 31 * 24 - 1 = 743.
///
/// Duty (Melbourne time):
///   Sep 30 20:00  brong takes duty                        (before the month)
///   Oct  3 18:00  robn takes duty                         (held across midnight and the DST change)
///   Oct  4 11:55  robn gives brong duty; 12:00 brong accepts
///   Oct 20 09:00  neilj takes duty, keeps it to the end
///
/// Stipend by hand:
///   Oct 1, 2      brong 2 x 40.00                                        = 80.00   (48 h)
///   Oct 3         brong 18/24 x 40 = 30.00, robn 6/24 x 40 = 10.00                 (18 h, 6 h)
///   Oct 4 (23 h)  robn 00:00-12:00 is 11 h (02:00-03:00 does not exist): 11/23 x 40 = 19.1304...
///                 brong 12:00-24:00 is 12 h:                              12/23 x 40 = 20.8695...
///                 floors 19.13 + 20.86 = 39.99; the last cent goes to the larger remainder (brong .0095 > robn .0043)
///                 -> robn 19.13, brong 20.87
///   Oct 5..19     brong 15 x 40.00                                       = 600.00  (360 h)
///   Oct 20        brong 9/24 x 40 = 15.00, neilj 15/24 x 40 = 25.00                (9 h, 15 h)
///   Oct 21..31    neilj 11 x 40.00                                       = 440.00  (264 h)
///   brong 80 + 30 + 20.87 + 600 + 15 = 745.87 (48+18+12+360+9 = 447 h)
///   robn  10 + 19.13                 =  29.13 (6+11 = 17 h)
///   neilj 25 + 440                   = 465.00 (15+264 = 279 h)          sum 1240.00 = 31 x 40, 743 h
///
/// Pages:
///   #1 Oct  8 03:00 brong on duty, paged; robn acks at 03:02, before it ran on to everybody -> robn's bonus 20.00;
///                   brong is not docked (he would be had it run on to everybody). robn reports at 09:30: paid.
///   #2 Oct 12 14:00 brong paged, acks himself; no report until Oct 14 -> held 20.00 (settled Oct 13), then released.
///   #3 Oct 15 10:00 brong acks during the countdown: nobody was paged, no bonus.
///   #4 Oct 22 02:00 neilj paged, acks; never reports -> 20.00 held at month end.
///   #5 Oct 26 04:00 neilj paged, then everybody; nobody acks -> nothing.
///
/// Totals: brong 745.87 + 20 = 765.87; robn 29.13 + 20 = 49.13; neilj 465.00 (+20.00 held); all 1280.00.
/// </summary>
public class HandComputedMonthTests
{
    private const string ExpectedCsv = """
        person,name,duty_hours,stipend,pages_answered,bonus_paid,bonus_held,docked_out,docked_in,total
        brong,Bron Gondwana,447.00,745.87,1,20.00,0.00,0.00,0.00,765.87
        robn,Rob Norris,17.00,29.13,1,20.00,0.00,0.00,0.00,49.13
        neilj,Neil Jenkins,279.00,465.00,1,0.00,20.00,0.00,0.00,465.00
        TOTAL,Total,743.00,1240.00,3,40.00,20.00,0.00,0.00,1280.00

        """;

    /// <summary>
    /// Lives October 2026 through the engine; returns the harness at Nov 1 09:00 after the monthly run. In
    /// <paramref name="db"/> if given (the caller disposes it), else in a TempDatabase of the harness's own.
    /// </summary>
    internal static async Task<LedgerHarness> LiveOctoberAsync(string? reportFolder = null, bool runPayout = true, TempDatabase? db = null)
    {
        var h = db is null ? new LedgerHarness(Mel(2026, 9, 30, 20), reportFolder)
            : new LedgerHarness(new Paging.EngineHarness(sharedDb: db, clock: new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Mel(2026, 9, 30, 20))), reportFolder);
        await h.SayAsync("brong", "lars duty take");

        await h.AtAsync(Mel(2026, 10, 3, 18));
        await h.SayAsync("robn", "lars duty take");

        await h.AtAsync(Mel(2026, 10, 4, 11, 55));
        await h.SayAsync("robn", "lars duty give brong");
        await h.AtAsync(Mel(2026, 10, 4, 12));
        await h.SayAsync("brong_", "lars duty accept");

        // #1: brong is paged at 03:00:30, robn answers before it runs on to everybody.
        await h.AtAsync(Mel(2026, 10, 8, 3));
        await h.Engine.AlertAsync("db1", "replication stopped");
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, await h.SendOutboxAsync());
        await h.AtAsync(Mel(2026, 10, 8, 3, 2));
        await h.SayAsync("robn", "lars ack");
        await h.AtAsync(Mel(2026, 10, 8, 9, 30));
        await h.SayAsync("robn", "lars report 1 https://wiki.example.com/incidents/2026-10-08 db1 replication: restarted slave");

        // #2: brong is paged and answers, but reports only after the day was settled with the bonus held.
        await h.AtAsync(Mel(2026, 10, 12, 14));
        await h.Engine.AlertAsync("gateway2", "rblcheck: listed");
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(31));
        await h.SendOutboxAsync();
        await h.SayAsync("brong_", "lars ack");
        await h.AtAsync(Mel(2026, 10, 13, 1));
        await h.Ledger.SettleAsync(h.Clock.GetUtcNow());
        await h.AtAsync(Mel(2026, 10, 14, 8));
        await h.SayAsync("brong", "lars report 2 Delisted after the spam run; see ticket 4411");

        // #3: acked during the countdown: no page went out.
        await h.AtAsync(Mel(2026, 10, 15, 10));
        await h.Engine.AlertAsync("web3", "disk 91%");
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(10));
        await h.SayAsync("brong", "lars ack");

        await h.AtAsync(Mel(2026, 10, 20, 9));
        await h.SayAsync("neilj", "lars duty take");

        // #4: neilj is paged and answers; no report ever.
        await h.AtAsync(Mel(2026, 10, 22, 2));
        await h.Engine.AlertAsync("mx2", "queue 5000");
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(30));
        await h.SendOutboxAsync();
        await h.Engine.AdvanceAsync(TimeSpan.FromMinutes(1));
        await h.SayAsync("neilj_", "lars ack");

        // #5: neilj is paged, then everybody; nobody acks.
        await h.AtAsync(Mel(2026, 10, 26, 4));
        await h.Engine.AlertAsync("imap5", "down");
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(30));
        await h.SendOutboxAsync();
        await h.Engine.AdvanceAsync(TimeSpan.FromMinutes(5));
        Assert.Equal(5, await h.SendOutboxAsync());

        await h.AtAsync(Mel(2026, 11, 1, runPayout ? 9 : 8, 59));
        h.Engine.Channel.Take();
        if (runPayout) await h.Payouts.RunDueAsync();
        return h;
    }

    [Fact]
    public async Task October_2026_pays_out_to_the_cent()
    {
        using var h = await LiveOctoberAsync();

        var csv = await File.ReadAllTextAsync(Path.Combine(h.Options.ReportFolder, "payout-2026-10.csv"));
        Assert.Equal(ExpectedCsv, csv);
        Assert.True(File.Exists(Path.Combine(h.Options.ReportFolder, "payout-2026-10.md")));
        Assert.True(File.Exists(Path.Combine(h.Options.ReportFolder, "payout-2026-10.html")));

        // LARSBOT_SAMPLE_REPORTS=/some/folder keeps this month's three reports for a look (docs/ledger.md).
        if (Environment.GetEnvironmentVariable("LARSBOT_SAMPLE_REPORTS") is { Length: > 0 } keep)
        {
            Directory.CreateDirectory(keep);
            foreach (var f in Directory.GetFiles(h.Options.ReportFolder, "payout-2026-10.*")) File.Copy(f, Path.Combine(keep, Path.GetFileName(f)), overwrite: true);
        }

        var said = h.Engine.Channel.Take();
        Assert.Contains(said, l => l.StartsWith("payout 2026-10 (AUD): brong 765.87, robn 49.13, neilj 465.00; total 1280.00; 20.00 held until 1 incident report(s) are filed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_report_lists_the_missing_report_and_the_unanswered_page()
    {
        using var h = await LiveOctoberAsync();
        var md = await File.ReadAllTextAsync(Path.Combine(h.Options.ReportFolder, "payout-2026-10.md"));
        Assert.Contains("- 2026-10-22 page #4 (alert 4, mx2: queue 5000): neilj acked; `lars report 4 <text or URL>` releases the bonus", md);
        Assert.Contains("- 2026-10-26 page #5 (alert 5, imap5: down): no bonus", md);
        Assert.Contains("| **Total** | 743.00 | 1240.00 | 3 | 40.00 | 20.00 | 0.00 | 0.00 | **1280.00** |", md);
        var html = await File.ReadAllTextAsync(Path.Combine(h.Options.ReportFolder, "payout-2026-10.html"));
        Assert.Equal(3, CountOf(html, "<svg "));
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", ""));
    }

    [Fact]
    public async Task The_ledger_is_append_only_and_the_held_bonus_was_released_by_a_correction_row()
    {
        using var h = await LiveOctoberAsync();
        var rows = await h.Engine.Db.ReadAsync(async c => (await c.QueryAsync<(string Kind, string Amount)>(
            "SELECT kind, amount FROM ledger_entries WHERE countdown_id = 2 ORDER BY id")).ToList());
        Assert.Equal([("bonus_held", "20.00"), ("bonus_held", "-20.00"), ("bonus_paid", "20.00")], rows);

        var e = await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() =>
            h.Engine.Db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE ledger_entries SET amount = '99.00' WHERE id = 1", transaction: tx)));
        Assert.Contains("append-only", e.Message);
        Assert.Empty(await h.Ledger.VerifyAsync(h.Clock.GetUtcNow()));
    }

    [Fact]
    public async Task Verify_reports_a_row_that_does_not_follow_from_the_facts()
    {
        using var h = await LiveOctoberAsync();
        await h.Engine.Db.WriteAsync((c, tx) => c.ExecuteAsync("""
            INSERT INTO ledger_entries(recorded_at, pay_month, day, person_id, kind, amount, duty_ms)
            VALUES (0, '2026-10', '2026-10-09', 'robn', 'stipend', '5.00', 0)
            """, transaction: tx));
        var d = Assert.Single(await h.Ledger.VerifyAsync(h.Clock.GetUtcNow()));
        Assert.Equal("2026-10-09 robn stipend: ledger 5.00 (0 ms), rules give 0.00 (0 ms)", d.ToString());

        // Settling writes the correction as a new row; then ledger and rules agree again.
        Assert.Equal(1, await h.Ledger.SettleAsync(h.Clock.GetUtcNow()));
        Assert.Empty(await h.Ledger.VerifyAsync(h.Clock.GetUtcNow()));
    }

    [Fact]
    public async Task A_restart_on_the_first_does_not_run_the_month_twice_and_a_missed_run_is_caught_up()
    {
        using var h = await LiveOctoberAsync();
        Assert.Empty(await h.Payouts.RunDueAsync());

        // A second bot on the same file, as after a restart later that day: nothing to do.
        var again = new Payouts(h.Engine.Db, h.Engine.Roster, h.Ledger, h.Engine.Outbox, h.Clock,
            Microsoft.Extensions.Options.Options.Create(h.Options), Microsoft.Extensions.Logging.Abstractions.NullLogger<Payouts>.Instance);
        Assert.Empty(await again.RunDueAsync());
        var months = await h.Engine.Db.ReadAsync(async c => (await c.QueryAsync<string>("SELECT month FROM payout_runs ORDER BY month")).ToList());
        Assert.Equal(["2026-09", "2026-10"], months);
    }

    [Fact]
    public async Task A_bot_that_was_down_at_nine_on_the_first_writes_the_month_when_it_starts()
    {
        using var h = await LiveOctoberAsync(runPayout: false);
        Assert.Equal(["2026-09"], await h.Payouts.RunDueAsync()); // 08:59: October is not due yet
        await h.AtAsync(Mel(2026, 11, 1, 11, 30));
        var restarted = new Payouts(h.Engine.Db, h.Engine.Roster, h.Ledger, h.Engine.Outbox, h.Clock,
            Microsoft.Extensions.Options.Options.Create(h.Options), Microsoft.Extensions.Logging.Abstractions.NullLogger<Payouts>.Instance);
        Assert.Equal(["2026-10"], await restarted.RunDueAsync());
        Assert.Equal(ExpectedCsv, await File.ReadAllTextAsync(Path.Combine(h.Options.ReportFolder, "payout-2026-10.csv")));
    }

    private static int CountOf(string s, string what)
    {
        var n = 0;
        for (var i = s.IndexOf(what, StringComparison.Ordinal); i >= 0; i = s.IndexOf(what, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }
}
