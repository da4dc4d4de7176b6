using Dapper;
using static Larsbot.Tests.Ledger.LedgerHarness;

namespace Larsbot.Tests.Ledger;

/// <summary>
/// "If you don't respond to a page and are on duty, you get docked the entire day's duty payment and it goes to the
/// person who responded instead", through the engine on a fake clock: the person on duty is whom the first page went
/// to, and they are docked only when the page ran on to everybody and someone else acked.
/// </summary>
public class DockingTests
{
    /// <summary>brong on duty from 1 Nov 08:00; at 10:00 on 2 Nov an urgent alert starts a countdown.</summary>
    private static async Task<LedgerHarness> AlertAt10Async()
    {
        var h = new LedgerHarness(Mel(2026, 11, 1, 8));
        await h.SayAsync("brong", "lars duty take");
        await h.AtAsync(Mel(2026, 11, 2, 10));
        await h.Engine.AlertAsync("db1", "replication stopped");
        return h;
    }

    /// <summary>The page's ledger rows once 2 Nov is settled, as (person, kind, amount), by person and kind.</summary>
    private static async Task<List<(string Person, string Kind, string Amount)>> PageLinesAsync(LedgerHarness h)
    {
        await h.AtAsync(Mel(2026, 11, 3, 1));
        await h.Ledger.SettleAsync(h.Clock.GetUtcNow());
        Assert.Empty(await h.Ledger.VerifyAsync(h.Clock.GetUtcNow()));
        return await h.Engine.Db.ReadAsync(async c => (await c.QueryAsync<(string, string, string)>(
            "SELECT person_id, kind, amount FROM ledger_entries WHERE countdown_id = 1 ORDER BY person_id, kind")).ToList());
    }

    private static Task<string> StipendAsync(LedgerHarness h, string person) =>
        h.Engine.Db.ReadAsync(c => c.ExecuteScalarAsync<string>(
            "SELECT amount FROM ledger_entries WHERE day = '2026-11-02' AND kind = 'stipend' AND person_id = @person", new { person }))!;

    [Fact]
    public async Task A_colleague_who_acks_before_the_page_runs_on_to_everybody_earns_the_bonus_and_docks_nobody()
    {
        using var h = await AlertAt10Async();
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(30)); // brong paged
        Assert.Equal(2, await h.SendOutboxAsync());
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(20));
        await h.SayAsync("robn", "lars ack");

        Assert.Equal([("robn", "bonus_held", "20.00")], await PageLinesAsync(h));
        Assert.Equal("40.00", await StipendAsync(h, "brong"));
    }

    [Fact]
    public async Task Letting_the_page_run_on_to_everybody_docks_the_day_to_whoever_acked()
    {
        using var h = await AlertAt10Async();
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(30));
        await h.SendOutboxAsync();
        await h.Engine.AdvanceAsync(TimeSpan.FromMinutes(5)); // no ack: everybody paged
        await h.SendOutboxAsync();
        await h.Engine.AdvanceAsync(TimeSpan.FromMinutes(1));
        await h.SayAsync("robn", "lars ack");

        Assert.Equal([("brong", "dock_out", "-40.00"), ("robn", "bonus_held", "20.00"), ("robn", "dock_in", "40.00")], await PageLinesAsync(h));
    }

    [Fact]
    public async Task The_person_docked_is_whom_the_first_page_went_to_not_who_held_duty_when_the_countdown_started()
    {
        using var h = await AlertAt10Async();
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(10));
        await h.SayAsync("robn", "lars duty take"); // during the countdown: the page goes to robn
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(20));
        var first = await h.Engine.Db.ReadAsync(c => c.QueryAsync<string>("SELECT DISTINCT person_id FROM pages WHERE stage = 'first'"));
        Assert.Equal(["robn"], first);
        await h.SendOutboxAsync();
        await h.Engine.AdvanceAsync(TimeSpan.FromMinutes(6)); // robn lets it run on to everybody
        await h.SendOutboxAsync();
        await h.SayAsync("brong", "lars ack");

        // robn held duty from 10:00:10: 13 h 59 min 50 s of the day, 23.33 of the 40.00; all of it goes to brong.
        Assert.Equal([("brong", "bonus_held", "20.00"), ("brong", "dock_in", "23.33"), ("robn", "dock_out", "-23.33")], await PageLinesAsync(h));
        Assert.Equal("23.33", await StipendAsync(h, "robn"));
    }

    [Fact]
    public async Task A_page_that_went_to_everybody_because_nobody_was_on_duty_docks_nobody()
    {
        using var h = new LedgerHarness(Mel(2026, 11, 2, 10)); // nobody has taken duty
        await h.Engine.AlertAsync("db1", "replication stopped");
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(30)); // everybody at once: escalated_at = paged_at
        Assert.True(await h.SendOutboxAsync() > 2);
        await h.SayAsync("robn", "lars ack");

        Assert.Equal([("robn", "bonus_held", "20.00")], await PageLinesAsync(h));
    }
}
