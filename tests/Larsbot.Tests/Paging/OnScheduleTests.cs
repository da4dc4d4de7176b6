using Larsbot.Paging;

namespace Larsbot.Tests.Paging;

/// <summary>
/// A countdown's times are counted from the moments they were due, not from when the engine's pass ran, when the
/// pass is within <see cref="CountdownModule.OnSchedule"/> of them; further off, from the pass (a bot that was down).
/// </summary>
public class OnScheduleTests
{
    [Theory]
    [InlineData(300, 0)]          // the pass ran 300 ms after the alert arrived: the countdown counts from the arrival
    [InlineData(120_000, 120_000)] // the bot was down for two minutes: the channel still gets its whole 30 s
    public async Task A_countdown_counts_from_its_alerts_arrival_when_the_pass_is_on_schedule(int passAfterMs, int startedAfterMs)
    {
        using var h = await PagingEngineTests.WithBrongOnDutyAsync();
        var arrived = h.Clock.GetUtcNow();
        await h.AlertAsync("gateway2", "rblcheck: listed");
        h.Clock.SetUtcNow(arrived + TimeSpan.FromMilliseconds(passAfterMs));
        await h.Engine.RunDueAsync();
        var cd = Assert.Single(await h.CountdownsAsync());
        Assert.Equal(arrived.ToUnixTimeMilliseconds() + startedAfterMs, cd.StartedAt);
        Assert.Equal(cd.StartedAt + (long)h.Options.Countdown.TotalMilliseconds, cd.PageAt);
        Assert.Equal(["URGENT gateway2 - rblcheck: listed"], h.Channel.Take());
        // The first line 5 s after the start, the page 30 s after it, and not a millisecond before.
        await h.AdvanceAsync(DateTimeOffset.FromUnixTimeMilliseconds(cd.StartedAt) + TimeSpan.FromSeconds(5) - h.Clock.GetUtcNow());
        Assert.Equal(["LarsSMS: 'gateway2: rblcheck: listed' in 25 secs to brong (+61400000001)"], h.Channel.Take());
        await h.AdvanceAsync(DateTimeOffset.FromUnixTimeMilliseconds(cd.PageAt) - TimeSpan.FromMilliseconds(1) - h.Clock.GetUtcNow());
        Assert.Empty(await h.PagesAsync());
        await h.AdvanceAsync(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, (await h.PagesAsync()).Count);
    }

    /// <summary>
    /// Alert at T0, then the engine's pass that sends the first page runs <paramref name="late"/> after it was due (a
    /// busy machine, or a bot that was down at the due time); returns when everybody was paged, if within two hours.
    /// </summary>
    private static async Task<(DateTimeOffset PagedAt, DateTimeOffset? EverybodyAt)> FirstPageLateAsync(TimeSpan late)
    {
        using var h = await PagingEngineTests.WithBrongOnDutyAsync();
        await h.AlertAsync("gateway2", "rblcheck: listed");
        await h.Engine.RunDueAsync();
        h.Clock.SetUtcNow(EngineHarness.T0 + h.Options.Countdown + late);
        await h.Engine.RunDueAsync();
        var first = await h.PagesAsync();
        Assert.Equal(["first", "first"], first.Select(p => p.Stage));
        var pagedAt = h.Clock.GetUtcNow();
        // Step a millisecond at a time through every moment the escalation could be due, running the engine at each.
        DateTimeOffset? everybodyAt = null;
        for (var at = pagedAt; everybodyAt is null && at < pagedAt + TimeSpan.FromHours(2); at += TimeSpan.FromMilliseconds(1))
        {
            var next = await h.Engine.RunDueAsync();
            if ((await h.PagesAsync()).Any(p => p.Stage == "everyone")) everybodyAt = h.Clock.GetUtcNow();
            else if (next is null) break; // nothing will ever be due
            else if (next > at) at = next.Value - TimeSpan.FromMilliseconds(1); // nothing is due before the engine's next look
            h.Clock.SetUtcNow(at + TimeSpan.FromMilliseconds(1));
        }
        return (pagedAt, everybodyAt);
    }

    [Fact]
    public async Task A_first_page_sent_a_little_late_still_pages_everybody_five_minutes_after_it_was_due()
    {
        // The pass that paged ran 400 ms late: the escalation keeps to the schedule instead of adding those 400 ms
        // (the timing benchmark measured every everybody-page about as late again as its first page).
        var (_, everybodyAt) = await FirstPageLateAsync(TimeSpan.FromMilliseconds(400));
        Assert.Equal(EngineHarness.T0 + TimeSpan.FromSeconds(330), everybodyAt);
    }

    [Fact]
    public async Task A_first_page_sent_minutes_late_gives_the_person_paged_the_whole_five_minutes()
    {
        // The bot was down when the page was due and paged two minutes late: the person on duty still has five
        // minutes to answer before everybody is woken.
        var (pagedAt, everybodyAt) = await FirstPageLateAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(EngineHarness.T0 + TimeSpan.FromSeconds(30) + TimeSpan.FromMinutes(2), pagedAt);
        Assert.Equal(pagedAt + TimeSpan.FromMinutes(5), everybodyAt);
    }
}
