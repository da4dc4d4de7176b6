using static Larsbot.Tests.Ledger.LedgerHarness;

namespace Larsbot.Tests.Ledger;

/// <summary>`lars report`, the daily reminder and `lars payout`, through ChatCommands on a fake clock.</summary>
public class LedgerCommandsTests
{
    /// <summary>brong on duty from 1 Nov 08:00; alert 1 pages him at 10:00:30 on 2 Nov and he acks.</summary>
    private static async Task<LedgerHarness> BrongPagedAndAckedAsync()
    {
        var h = new LedgerHarness(Mel(2026, 11, 1, 8));
        await h.SayAsync("brong", "lars duty take");
        await h.AtAsync(Mel(2026, 11, 2, 10));
        await PageAndAckAsync(h, "gateway2", "rblcheck: listed");
        return h;
    }

    /// <summary>An urgent alert counts down, pages brong (sent), and he acks.</summary>
    private static async Task PageAndAckAsync(LedgerHarness h, string host, string message)
    {
        await h.Engine.AlertAsync(host, message);
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(30));
        await h.SendOutboxAsync();
        await h.SayAsync("brong", "lars ack");
        h.Engine.Channel.Take();
    }

    [Fact]
    public async Task Only_the_ackers_report_releases_the_bonus_and_its_text_is_kept_as_typed()
    {
        using var h = await BrongPagedAndAckedAsync();
        await h.SayAsync("robn", "lars report 1 I looked too");
        await h.SayAsync("brong", "lars report 99 wrong id");
        await h.SayAsync("brong", "lars report");
        await h.SayAsync("brong", "Lars REPORT #1 Delisted at Spamhaus, see https://wiki.example.com/RBL");
        Assert.Equal([
            "report: thanks robn, noted on page #1 (the bonus waits for brong's own report).",
            "brong: alert 99 is not part of any page (only urgent alerts that paged someone need a report).",
            "brong: say 'lars report <alert-id> <what broke and what you did, or a URL>'.",
            "report: thanks brong, incident report filed for page #1; your AUD 20.00 page bonus is released.",
        ], h.Engine.Channel.Take());
        var text = await h.Engine.Db.ReadAsync(c => Dapper.SqlMapper.ExecuteScalarAsync<string>(c, "SELECT text FROM incident_reports WHERE person_id = 'brong'"));
        Assert.Equal("Delisted at Spamhaus, see https://wiki.example.com/RBL", text);
    }

    [Fact]
    public async Task A_missing_report_is_reminded_once_a_day_from_nine()
    {
        using var h = await BrongPagedAndAckedAsync();
        const string reminder = "brong: incident report missing for page #1 (gateway2: rblcheck: listed, 2026-11-02); your AUD 20.00 bonus is held until 'lars report 1 <text or URL>'";
        Assert.Equal(1, await h.Payouts.RemindAsync());
        Assert.Equal([reminder], h.Engine.Channel.Take());
        Assert.Equal(0, await h.Payouts.RemindAsync());

        await h.AtAsync(Mel(2026, 11, 3, 8, 59));
        Assert.Equal(0, await h.Payouts.RemindAsync());
        await h.AtAsync(Mel(2026, 11, 3, 9));
        h.Engine.Channel.Take();
        Assert.Equal(1, await h.Payouts.RemindAsync());
        Assert.Equal([reminder], h.Engine.Channel.Take());

        await h.SayAsync("brong", "lars report 1 done");
        await h.AtAsync(Mel(2026, 11, 4, 9));
        Assert.Equal(0, await h.Payouts.RemindAsync());
    }

    [Theory]
    [InlineData(10, 3, 4)] // Sun 4 Oct 2026, summer time starts: 23 hours, so 09:00 is 8 h after midnight
    [InlineData(4, 4, 5)]  // Sun 5 Apr 2026, summer time ends: 25 hours, so 09:00 is 10 h after midnight
    public async Task The_reminder_comes_at_nine_on_the_clock_on_the_days_daylight_saving_changes(int month, int pagedOn, int changesOn)
    {
        using var h = new LedgerHarness(Mel(2026, month, pagedOn, 8));
        await h.SayAsync("brong", "lars duty take");
        await h.AtAsync(Mel(2026, month, pagedOn, 10));
        await PageAndAckAsync(h, "gateway2", "rblcheck: listed");
        Assert.Equal(1, await h.Payouts.RemindAsync());
        h.Engine.Channel.Take();

        await h.AtAsync(Mel(2026, month, changesOn, 8, 59));
        Assert.Equal(0, await h.Payouts.RemindAsync());
        await h.AtAsync(Mel(2026, month, changesOn, 9));
        h.Engine.Channel.Take();
        Assert.Equal(1, await h.Payouts.RemindAsync());
        Assert.StartsWith("brong: incident report missing for page #1", Assert.Single(h.Engine.Channel.Take()));
    }

    [Fact]
    public async Task Several_missing_reports_are_one_line_per_person_not_a_line_each()
    {
        // The reminders share the channel queue with URGENT lines: eight lines at once held an alert back 3 s.
        using var h = await BrongPagedAndAckedAsync();
        await h.AtAsync(Mel(2026, 11, 2, 11));
        await PageAndAckAsync(h, "db1", "disk full");

        Assert.Equal(2, await h.Payouts.RemindAsync());
        Assert.Equal([
            "brong: incident reports missing for 2 pages, AUD 40.00 in bonuses held: " +
            "'lars report 1 <text or URL>' for page #1 (gateway2: rblcheck: listed, 2026-11-02), " +
            "'lars report 2 <text or URL>' for page #2 (db1: disk full, 2026-11-02)",
        ], h.Engine.Channel.Take());
        Assert.Equal(0, await h.Payouts.RemindAsync());
    }

    [Fact]
    public async Task Payout_in_irc_is_one_line_for_the_month_so_far()
    {
        using var h = await BrongPagedAndAckedAsync();
        await h.AtAsync(Mel(2026, 11, 3, 12));
        h.Engine.Channel.Take();
        await h.SayAsync("robn", "lars payout");
        // 1 Nov from 08:00: 16/24 x 40 = 26.67; 2 Nov 40.00; 3 Nov so far (as if he keeps it to midnight) 40.00.
        Assert.Equal(["payout 2026-11 so far (AUD): brong 106.67, robn 0.00, neilj 0.00; total 106.67; 20.00 held until 1 incident report(s) are filed"],
            h.Engine.Channel.Take());
    }
}
