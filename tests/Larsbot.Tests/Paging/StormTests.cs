namespace Larsbot.Tests.Paging;

/// <summary>Alert storms on a fake clock: counted per host in grouped lines, one countdown and one page for the lot.</summary>
public class StormTests
{
    [Fact]
    public async Task Fifty_alerts_at_once_become_one_grouped_line_and_one_page_naming_the_counts()
    {
        using var h = new EngineHarness();
        await h.TakeDutyAsync("brong", "brong");
        h.Channel.Take();
        for (var i = 0; i < 50; i++) await h.AlertAsync($"h{i % 5}", $"down {i}");
        await h.Engine.RunDueAsync();
        Assert.Empty(h.Channel.Take());

        await h.AdvanceAsync(h.Options.StormFlushEvery);
        Assert.Equal(["URGENT 50 alerts from 5 hosts: h0 (10), h1 (10), h2 (10), h3 (10), h4 (10)"], h.Channel.Take());

        await h.AdvanceAsync(TimeSpan.FromSeconds(28));
        Assert.Single(await h.CountdownsAsync());
        var pages = await h.PagesAsync();
        Assert.Equal(2, pages.Count);
        Assert.All(pages, p => Assert.Equal("h0: down 0 (+49 more from 5 hosts)", p.Body));
        Assert.Contains(h.Channel.Take(), l => l.StartsWith("LarsSMS: paging brong (+61400000001) now: 'h0: down 0 (+49 more from 5 hosts)'"));
    }

    [Fact]
    public async Task Many_hosts_are_cut_to_one_line_with_the_rest_counted()
    {
        using var h = new EngineHarness();
        for (var i = 0; i < 400; i++) await h.AlertAsync($"web{i:D3}.example.com", "HTTP 500", i % 2 == 0 ? "urgent" : "irc");
        await h.AdvanceAsync(h.Options.StormFlushEvery);
        var said = h.Channel.Take().Where(l => !l.StartsWith("LarsSMS")).ToList();
        Assert.Equal(2, said.Count);
        Assert.StartsWith("URGENT 200 alerts from 200 hosts: web000.example.com (1), web002.example.com (1),", said[0]);
        Assert.Matches(@"\(\+\d+ more hosts\)$", said[0]);
        Assert.StartsWith("irc 200 alerts from 200 hosts: web001.example.com (1),", said[1]);
        Assert.All(said, l => Assert.True(l.Length < 400, l));
    }

    [Fact]
    public async Task A_storm_keeps_grouping_until_it_is_quiet_and_its_tail_is_said_plainly()
    {
        using var h = new EngineHarness();
        // Different texts: the same host and text again would be a repeat (counted, not announced), not a storm.
        for (var i = 0; i < 10; i++) await h.AlertAsync("db1", $"lag {i}");
        await h.AdvanceAsync(h.Options.StormFlushEvery);
        Assert.Contains("URGENT 10 alerts from 1 hosts: db1 (10)", h.Channel.Take());

        // Still within the quiet period: a single alert is held for the next flush, then said as itself.
        await h.AlertAsync("db2", "disk full");
        await h.Engine.RunDueAsync();
        Assert.DoesNotContain(h.Channel.Take(), l => l.StartsWith("URGENT"));
        await h.AdvanceAsync(h.Options.StormFlushEvery);
        Assert.Contains("URGENT db2 - disk full", h.Channel.Take());

        // Quiet for long enough: back to one line per alert, at once.
        await h.AdvanceAsync(h.Options.StormQuietAfter);
        h.Channel.Take();
        await h.AlertAsync("db3", "disk full");
        await h.Engine.RunDueAsync();
        Assert.Equal(["URGENT db3 - disk full"], h.Channel.Take());
    }

    [Fact]
    public async Task A_line_counted_before_its_pass_adds_what_that_pass_announced()
    {
        using var h = new EngineHarness();
        for (var i = 0; i < 50; i++) await h.AlertAsync($"h{i % 5}", $"down {i}");
        await h.Engine.RunDueAsync();
        Assert.Empty(h.Channel.Take());

        // The line falls due with 20 more alerts waiting: 50 were counted before the pass, 20 in it.
        h.Clock.Advance(h.Options.StormFlushEvery);
        for (var i = 0; i < 20; i++) await h.AlertAsync(i < 10 ? "h0" : "h9", $"more {i}");
        await h.Engine.RunDueAsync();
        Assert.Contains("URGENT 70 alerts from 6 hosts: h0 (20), h1 (10), h2 (10), h3 (10), h4 (10), h9 (10)", h.Channel.Take());
        Assert.Equal(1, h.Engine.Storm.CountedAhead);

        // The next line counts only what came after it.
        for (var i = 0; i < 7; i++) await h.AlertAsync("h3", $"last {i}");
        await h.AdvanceAsync(h.Options.StormFlushEvery);
        Assert.Contains("URGENT 7 alerts from 1 hosts: h3 (7)", h.Channel.Take());
        Assert.Equal(2, h.Engine.Storm.CountedAhead);
    }
}
