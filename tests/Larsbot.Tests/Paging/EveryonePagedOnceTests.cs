namespace Larsbot.Tests.Paging;

/// <summary>
/// A storm is one thing. With nobody on duty the first page goes to everybody; urgent alerts that follow within
/// Paging:EscalateAfter join that unacked page instead of starting another everybody-page. Before, they paged everybody
/// again every 30 s, and with IRC unreachable (no countdown) on every engine pass.
/// </summary>
public sealed class EveryonePagedOnceTests
{
    [Fact]
    public async Task With_IRC_down_and_nobody_on_duty_a_storm_pages_everybody_once_not_once_per_pass()
    {
        using var h = new EngineHarness();
        await h.Channel.SimulateDisconnectAsync();
        await h.AdvanceAsync(h.Options.IrcDownGrace + TimeSpan.FromSeconds(1));
        for (var pass = 0; pass < 5; pass++)
        {
            await h.AlertAsync($"web{pass}", "down");
            await h.Engine.RunDueAsync();
            h.Clock.Advance(TimeSpan.FromMilliseconds(5));
        }
        var pages = await h.PagesAsync();
        Assert.Single(await h.CountdownsAsync());
        Assert.Equal(pages.Count, pages.Select(p => (p.PersonId, p.Channel)).Distinct().Count()); // one page per person and way
        Assert.All(pages, p => Assert.Equal("web0: down", p.Body));
        Assert.Contains(h.Channel.Take(), l => l == "URGENT web4 - down (joins open page #1: everybody was paged, nobody has acked yet)");
    }

    [Fact]
    public async Task After_everybody_was_paged_new_alerts_join_until_EscalateAfter_and_one_ack_stops_them_all()
    {
        using var h = new EngineHarness();
        await h.AlertAsync("db1", "disk full");
        await h.AdvanceAsync(h.Options.Countdown);
        var first = (await h.PagesAsync()).Count;
        Assert.True(first > 0);

        await h.AdvanceAsync(TimeSpan.FromMinutes(1));
        await h.AlertAsync("db2", "disk full");
        await h.AdvanceAsync(h.Options.Countdown + TimeSpan.FromSeconds(1));
        Assert.Single(await h.CountdownsAsync());
        Assert.Equal(first, (await h.PagesAsync()).Count);

        // Past EscalateAfter since everybody was paged, still unacked: a new alert pages again (a reminder, not a storm).
        await h.AdvanceAsync(h.Options.EscalateAfter);
        await h.AlertAsync("db3", "disk full");
        await h.AdvanceAsync(h.Options.Countdown);
        Assert.Equal(2, (await h.CountdownsAsync()).Count);
        Assert.Equal(2 * first, (await h.PagesAsync()).Count);

        await h.AckAsync("brong");
        Assert.All(await h.CountdownsAsync(), c => Assert.Equal(Larsbot.Paging.CountdownState.Acked, c.State));
    }
}
