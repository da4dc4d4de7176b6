using Larsbot.Tests.Support;

namespace Larsbot.Tests.Paging;

/// <summary>When IRC is unreachable nobody can type `lars ack`, so a countdown would only delay the page.</summary>
public class IrcOutageTests
{
    private static async Task<EngineHarness> OnDutyAsync()
    {
        var h = new EngineHarness();
        await h.TakeDutyAsync("brong", "brong");
        await h.Channel.SimulateJoinAsync();
        h.Channel.Take();
        return h;
    }

    [Fact]
    public async Task An_urgent_alert_while_IRC_has_been_down_past_the_grace_pages_at_once()
    {
        using var h = await OnDutyAsync();
        await h.Channel.SimulateDisconnectAsync();
        await h.AdvanceAsync(h.Options.IrcDownGrace);
        await h.AlertAsync("db1", "disk full");
        await h.Engine.RunDueAsync();
        var said = h.Channel.Take();
        Assert.Equal("URGENT db1 - disk full (IRC was unreachable: paged at once)", said[0]);
        Assert.StartsWith("LarsSMS: paging brong (+61400000001) now: 'db1: disk full'", said[1]);
        Assert.Equal(2, (await h.PagesAsync()).Count);
    }

    [Fact]
    public async Task A_short_blip_within_the_grace_keeps_the_countdown()
    {
        using var h = await OnDutyAsync();
        await h.Channel.SimulateDisconnectAsync();
        await h.AdvanceAsync(h.Options.IrcDownGrace - TimeSpan.FromSeconds(1));
        await h.AlertAsync("db1", "disk full");
        await h.AdvanceAsync(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["URGENT db1 - disk full"], h.Channel.Take());
        Assert.Empty(await h.PagesAsync());
        await h.Channel.SimulateJoinAsync();
        await h.AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.Contains("LarsSMS: 'db1: disk full' in 25 secs to brong (+61400000001)", h.Channel.Take());
        Assert.Empty(await h.PagesAsync());
    }

    [Fact]
    public async Task IRC_lost_mid_countdown_pages_when_the_grace_runs_out_not_at_the_end_of_the_countdown()
    {
        using var h = await OnDutyAsync();
        await h.AlertAsync("db1", "disk full");
        await h.AdvanceAsync(TimeSpan.FromSeconds(2));
        await h.Channel.SimulateDisconnectAsync();
        await h.AdvanceAsync(h.Options.IrcDownGrace - TimeSpan.FromMilliseconds(1));
        Assert.Empty(await h.PagesAsync());
        await h.AdvanceAsync(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, (await h.PagesAsync()).Count);
        Assert.Contains(h.Channel.Take(), l => l.StartsWith("LarsSMS: IRC has been unreachable for over 15 secs, nobody can ack: paging now instead of in 13 secs"));
    }

    [Fact]
    public async Task The_first_connect_after_start_is_within_the_grace()
    {
        using var h = new EngineHarness();
        h.Channel.IsConnected = false; // the bot has just started and not joined yet
        await h.AlertAsync("db1", "disk full");
        await h.AdvanceAsync(TimeSpan.FromSeconds(1));
        await h.Channel.SimulateJoinAsync();
        await h.AdvanceAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(await h.PagesAsync());
        Assert.DoesNotContain(h.Channel.Lines, l => l.StartsWith("back on IRC"));
    }

    [Fact]
    public async Task After_an_outage_the_bot_says_what_happened_meanwhile()
    {
        using var h = await OnDutyAsync();
        await h.Channel.SimulateDisconnectAsync();
        await h.AdvanceAsync(TimeSpan.FromSeconds(20));
        await h.AlertAsync("db1", "disk full");
        await h.AlertAsync("db2", "disk full too");
        await h.AlertAsync("mail1", "queue long", "irc");
        await h.AdvanceAsync(TimeSpan.FromSeconds(45));
        h.Channel.Take();
        await h.Channel.SimulateJoinAsync();
        Assert.Equal(["back on IRC after 65 secs away: 3 alert(s) meanwhile (2 urgent: 'db1: disk full (+1 more from 2 hosts)'); paged brong (nobody could ack here)"],
            h.Channel.Take());
        Assert.StartsWith("online, normal mode, Bron Gondwana", h.Channel.Topic);
    }

    [Fact]
    public async Task The_everyone_page_says_nobody_acked()
    {
        using var h = await OnDutyAsync();
        await h.AlertAsync("db1", "disk full");
        await h.AdvanceAsync(TimeSpan.FromSeconds(330));
        var everyone = (await h.PagesAsync()).Where(p => p.Stage == "everyone").ToList();
        Assert.NotEmpty(everyone);
        Assert.All(everyone, p => Assert.Equal("db1: disk full (not acked in 5 minutes: paging everybody)", p.Body));
    }
}
