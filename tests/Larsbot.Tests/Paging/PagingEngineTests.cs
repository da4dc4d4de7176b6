using Larsbot.Paging;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Paging;

/// <summary>The whole page loop on a fake clock: what the channel sees and which page rows are written when.</summary>
public class PagingEngineTests
{
    private const string Brong = "brong (+61400000001)";
    private static readonly TimeSpan S5 = TimeSpan.FromSeconds(5);

    internal static async Task<EngineHarness> WithBrongOnDutyAsync()
    {
        var h = new EngineHarness();
        await h.TakeDutyAsync("brong", "brong");
        h.Channel.Take();
        return h;
    }

    [Fact]
    public async Task Countdown_says_a_line_every_5_seconds_then_pages_the_person_on_duty_at_30()
    {
        using var h = await WithBrongOnDutyAsync();
        await h.AlertAsync("gateway2", "rblcheck: listed");
        await h.Engine.RunDueAsync();
        Assert.Equal(["URGENT gateway2 - rblcheck: listed"], h.Channel.Take());

        foreach (var left in new[] { 25, 20, 15, 10, 5 })
        {
            await h.AdvanceAsync(S5);
            Assert.Equal([$"LarsSMS: 'gateway2: rblcheck: listed' in {left} secs to {Brong}"], h.Channel.Take());
            Assert.Empty(await h.PagesAsync());
        }

        await h.AdvanceAsync(TimeSpan.FromSeconds(4.9));
        Assert.Empty(h.Channel.Take());
        Assert.Empty(await h.PagesAsync());

        await h.AdvanceAsync(TimeSpan.FromSeconds(0.1));
        var line = Assert.Single(h.Channel.Take());
        Assert.StartsWith($"LarsSMS: paging {Brong} now: 'gateway2: rblcheck: listed'", line);
        var pages = await h.PagesAsync();
        Assert.Equal([("first", "brong", "sms", "+61400000001"), ("first", "brong", "push", "uQiRzpo4DXghDmr9QzzfQu27cmVRsG")],
            pages.Select(p => (p.Stage, p.PersonId, p.Channel, p.Destination)));
        Assert.All(pages, p => Assert.Equal("gateway2: rblcheck: listed", p.Body));
        Assert.All(pages, p => Assert.Equal(EngineHarness.T0.AddSeconds(30).ToUnixTimeMilliseconds(), p.CreatedAt));
    }

    [Fact]
    public async Task Nobody_acks_so_everybody_is_paged_five_minutes_after_the_first_page()
    {
        using var h = await WithBrongOnDutyAsync();
        await h.AlertAsync("gateway2", "rblcheck: listed");
        await h.AdvanceAsync(TimeSpan.FromSeconds(30));
        h.Channel.Take();
        Assert.Equal(2, (await h.PagesAsync()).Count);

        await h.AdvanceAsync(TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, (await h.PagesAsync()).Count);
        Assert.Empty(h.Channel.Take());

        await h.AdvanceAsync(TimeSpan.FromMilliseconds(1));
        Assert.Equal(EngineHarness.T0 + TimeSpan.FromSeconds(330), h.Clock.GetUtcNow());
        var line = Assert.Single(h.Channel.Take());
        Assert.StartsWith("LarsSMS: nobody acked in 5 minutes, paging everybody", line);
        var everyone = (await h.PagesAsync()).Where(p => p.Stage == "everyone").ToList();
        // neilj has no Pushover key: sms only.
        Assert.Equal(["brong/push", "brong/sms", "neilj/sms", "robn/push", "robn/sms"],
            everyone.Select(p => $"{p.PersonId}/{p.Channel}").Order());

        // Nothing more, ever: one escalation pages each person once per stage.
        await h.AdvanceAsync(TimeSpan.FromHours(1));
        Assert.Equal(7, (await h.PagesAsync()).Count);
        Assert.DoesNotContain(h.Channel.Take(), l => l.StartsWith("LarsSMS"));
    }

    [Fact]
    public async Task Ack_during_the_countdown_purges_the_sms_and_enables_ack_mode()
    {
        using var h = await WithBrongOnDutyAsync();
        await h.AlertAsync("gateway2", "rblcheck: listed");
        await h.AdvanceAsync(TimeSpan.FromSeconds(10));
        h.Channel.Take();

        await h.AckAsync("brong_");
        Assert.Equal([
            $"sms purged: {Brong} 'gateway2: rblcheck: listed'",
            "ack: OK brong_ acked 1 issues. Ack mode enabled for 30 minutes",
        ], h.Channel.Take());
        Assert.Equal("online, acked mode, Bron Gondwana in Australia/Melbourne on duty - e:brong@example.com, p:+61400000001,Pushover",
            h.Channel.Topic);

        await h.AdvanceAsync(TimeSpan.FromMinutes(10));
        Assert.Empty(await h.PagesAsync());
        Assert.Empty(h.Channel.Take());
        Assert.Equal(CountdownState.Acked, Assert.Single(await h.CountdownsAsync()).State);
    }

    [Fact]
    public async Task Ack_with_nothing_pending_still_enables_ack_mode()
    {
        using var h = await WithBrongOnDutyAsync();
        await h.AckAsync("robn");
        Assert.Equal(["ack: no issues to ack. Ack mode enabled for 30 minutes"], h.Channel.Take());
        Assert.StartsWith("online, acked mode,", h.Channel.Topic);
    }

    [Fact]
    public async Task Ack_after_the_first_page_stops_the_everyone_page()
    {
        using var h = await WithBrongOnDutyAsync();
        await h.AlertAsync("db1", "disk full");
        await h.AdvanceAsync(TimeSpan.FromMinutes(2));
        h.Channel.Take();
        await h.AckAsync("robn");
        var said = h.Channel.Take();
        Assert.Equal("sms purged: everybody (brong, robn, neilj) 'db1: disk full'", said[0]);
        Assert.Equal("ack: OK robn acked 1 issues. Ack mode enabled for 30 minutes", said[1]);
        await h.AdvanceAsync(TimeSpan.FromMinutes(10));
        Assert.DoesNotContain(await h.PagesAsync(), p => p.Stage == "everyone");
    }

    [Fact]
    public async Task Ack_mode_announces_urgent_alerts_without_paging_and_ends_after_30_minutes()
    {
        using var h = await WithBrongOnDutyAsync();
        await h.AckAsync("brong");
        h.Channel.Take();
        await h.AdvanceAsync(TimeSpan.FromMinutes(10));
        await h.AlertAsync("web3", "500s");
        await h.Engine.RunDueAsync();
        Assert.Equal(["URGENT web3 - 500s (ack mode, not paging)"], h.Channel.Take());

        await h.AdvanceAsync(TimeSpan.FromMinutes(20) - TimeSpan.FromMilliseconds(1));
        Assert.Empty(h.Channel.Take());
        Assert.StartsWith("online, acked mode,", h.Channel.Topic);

        await h.AdvanceAsync(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["ack mode over: back to normal mode, urgent alerts page again"], h.Channel.Take());
        Assert.Equal("online, normal mode, Bron Gondwana in Australia/Melbourne on duty - e:brong@example.com, p:+61400000001,Pushover",
            h.Channel.Topic);
        Assert.Empty(await h.CountdownsAsync());
        Assert.Empty(await h.PagesAsync());

        // Normal mode again: the next urgent alert counts down.
        await h.AlertAsync("web3", "still 500s");
        await h.AdvanceAsync(S5);
        Assert.Contains($"LarsSMS: 'web3: still 500s' in 25 secs to {Brong}", h.Channel.Take());
    }

    [Fact]
    public async Task A_second_ack_renews_ack_mode_from_now()
    {
        using var h = await WithBrongOnDutyAsync();
        await h.AckAsync("brong");
        await h.AdvanceAsync(TimeSpan.FromMinutes(20));
        await h.AckAsync("robn");
        h.Channel.Take();
        await h.AdvanceAsync(TimeSpan.FromMinutes(29));
        Assert.Empty(h.Channel.Take());
        await h.AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(["ack mode over: back to normal mode, urgent alerts page again"], h.Channel.Take());
    }

    [Fact]
    public async Task Urgent_alerts_during_a_countdown_join_it_and_one_page_names_them_all()
    {
        using var h = await WithBrongOnDutyAsync();
        await h.AlertAsync("gateway2", "rblcheck: listed");
        await h.AdvanceAsync(TimeSpan.FromSeconds(7));
        await h.AlertAsync("db1", "replication lag 300s");
        await h.AlertAsync("db2", "replication lag 280s");
        await h.AdvanceAsync(TimeSpan.FromSeconds(3));
        var said = h.Channel.Take();
        Assert.Contains("URGENT db1 - replication lag 300s", said);
        Assert.Contains("URGENT db2 - replication lag 280s", said);
        Assert.Equal($"LarsSMS: 'gateway2: rblcheck: listed (+2 more from 3 hosts)' in 20 secs to {Brong}", said[^1]);

        // The deadline is the first alert's: joining never postpones a page.
        await h.AdvanceAsync(TimeSpan.FromSeconds(20));
        var pages = await h.PagesAsync();
        Assert.Equal(2, pages.Count);
        Assert.All(pages, p => Assert.Equal("gateway2: rblcheck: listed (+2 more from 3 hosts)", p.Body));
        Assert.Single(await h.CountdownsAsync());

        await h.AckAsync("brong");
        Assert.Contains("ack: OK brong acked 3 issues. Ack mode enabled for 30 minutes", h.Channel.Take());
    }

    [Fact]
    public async Task With_nobody_on_duty_the_30_second_page_goes_to_everybody_and_nothing_escalates_after()
    {
        using var h = new EngineHarness();
        await h.AlertAsync("gateway2", "down");
        await h.AdvanceAsync(S5);
        Assert.Equal("LarsSMS: 'gateway2: down' in 25 secs to everybody (brong (+61400000001), robn (+61400000002), neilj (+4790000003))",
            h.Channel.Take()[^1]);
        await h.AdvanceAsync(TimeSpan.FromSeconds(25));
        Assert.StartsWith("LarsSMS: nobody on duty, paging everybody now", h.Channel.Take()[^1]);
        Assert.Equal(5, (await h.PagesAsync()).Count);
        await h.AdvanceAsync(TimeSpan.FromMinutes(10));
        Assert.Equal(5, (await h.PagesAsync()).Count);
        Assert.Equal(CountdownState.Escalated, Assert.Single(await h.CountdownsAsync()).State);
    }

    [Fact]
    public async Task Irc_level_is_announced_and_info_is_only_recorded_neither_pages()
    {
        using var h = await WithBrongOnDutyAsync();
        await h.AlertAsync("mail1", "queue 5000", "irc");
        await h.AlertAsync("mail1", "queue 900", "info");
        await h.AdvanceAsync(TimeSpan.FromMinutes(10));
        Assert.Equal(["irc mail1 - queue 5000"], h.Channel.Take());
        Assert.Empty(await h.CountdownsAsync());
        Assert.Empty(await h.PagesAsync());
    }

    [Fact]
    public async Task Restart_mid_countdown_resumes_from_the_file_without_repeating_or_losing_anything()
    {
        using var db = new TempDatabase();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(EngineHarness.T0);
        using (var first = new EngineHarness(db, clock))
        {
            await first.TakeDutyAsync("brong", "brong");
            await first.AlertAsync("gateway2", "rblcheck: listed");
            await first.AdvanceAsync(TimeSpan.FromSeconds(12));
            Assert.Contains($"LarsSMS: 'gateway2: rblcheck: listed' in 20 secs to {Brong}", first.Channel.Lines);
        }

        // A new process (new engine, same file) at 13 s: nothing is repeated; the 15 s line comes at 15 s.
        clock.Advance(TimeSpan.FromSeconds(1));
        using var second = new EngineHarness(db, clock);
        await second.Engine.RunDueAsync();
        Assert.Empty(second.Channel.Take());
        await second.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.Equal([$"LarsSMS: 'gateway2: rblcheck: listed' in 15 secs to {Brong}"], second.Channel.Take());
        await second.AdvanceAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(2, (await second.PagesAsync()).Count);

        // And a third process after the page: the page is not written again.
        using var third = new EngineHarness(db, clock);
        await third.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(2, (await third.PagesAsync()).Count);
    }

    [Fact]
    public async Task A_deadline_that_passed_while_the_bot_was_down_fires_at_once_on_start()
    {
        using var db = new TempDatabase();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(EngineHarness.T0);
        using (var first = new EngineHarness(db, clock))
        {
            await first.TakeDutyAsync("brong", "brong");
            await first.AlertAsync("gateway2", "rblcheck: listed");
            await first.AdvanceAsync(TimeSpan.FromSeconds(3));
            first.Channel.Take(); // said before the crash (a line still in the outbox would be said after it)
        }
        clock.Advance(TimeSpan.FromMinutes(2));
        using var second = new EngineHarness(db, clock);
        await second.Engine.RunDueAsync();
        var said = second.Channel.Take();
        Assert.Single(said);
        Assert.StartsWith($"LarsSMS: paging {Brong} now", said[0]);
        Assert.Equal(2, (await second.PagesAsync()).Count);
    }

    [Fact]
    public async Task An_alert_stored_but_not_yet_handled_before_a_crash_is_handled_after_it()
    {
        using var db = new TempDatabase();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(EngineHarness.T0);
        using (var first = new EngineHarness(db, clock))
        {
            await first.TakeDutyAsync("brong", "brong");
            await first.AlertAsync("gateway2", "rblcheck: listed"); // stored; the engine never ran
            first.Channel.Take();
        }
        using var second = new EngineHarness(db, clock);
        await second.Engine.RunDueAsync();
        Assert.Equal(["URGENT gateway2 - rblcheck: listed"], second.Channel.Take());
        Assert.Single(await second.CountdownsAsync());
    }

    [Fact]
    public async Task Duty_take_updates_the_topic_and_is_recorded()
    {
        using var h = new EngineHarness();
        await h.Engine.RunDueAsync();
        Assert.Equal("online, normal mode, nobody on duty", h.Channel.Topic);
        await h.TakeDutyAsync("neilj", "neilj_");
        Assert.StartsWith("duty: Neil Jenkins (neilj_) is now on duty", Assert.Single(h.Channel.Take()));
        Assert.Equal("online, normal mode, Neil Jenkins in Europe/Oslo on duty - e:neilj@example.com, p:+4790000003", h.Channel.Topic);
        await h.TakeDutyAsync("brong", "brong");
        Assert.StartsWith("duty: Bron Gondwana (brong) is now on duty, taking over from Neil Jenkins", Assert.Single(h.Channel.Take()));
        Assert.StartsWith("duty: Bron Gondwana (brong) since 2026-11-23 03:00 UTC", await h.Duty.ReportAsync());
    }

    [Fact]
    public async Task A_burst_of_alerts_is_handled_in_one_pass_not_one_pass_each()
    {
        // Every pass costs a transaction and a dozen queries whatever it finds; alerts arriving within MinPassGap of
        // the last pass wait for the next one together (wall-clock time: this is about CPU, not about when things are due).
        var h = new EngineHarness(options: new PagingOptions { MinPassGap = TimeSpan.FromSeconds(1) });
        using var _ = h;
        using var cts = new CancellationTokenSource();
        var loop = new PagingLoop(h.Engine, h.Clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<PagingLoop>.Instance);
        await loop.StartAsync(cts.Token);
        await Eventually.TrueAsync(() => h.Engine.Passes == 1);
        // Spaced in wall-clock time on purpose: without the gap, each of these would get a pass of its own.
        for (var i = 0; i < 10; i++)
        {
            await h.AlertAsync($"web{i}", "link down", "irc");
            await Task.Delay(20);
        }
        await Eventually.TrueAsync(async () => await h.Db.ReadAsync(c => Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT COUNT(*) FROM alerts WHERE handled_at IS NULL")) == 0);
        // 10 wakes over 200 ms, and one pass took them all (two, if the burst straddled the end of the gap).
        Assert.InRange(h.Engine.Passes, 2, 3);
        await loop.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task The_loop_wakes_itself_on_the_fake_clock_through_a_whole_escalation()
    {
        using var h = await WithBrongOnDutyAsync();
        using var cts = new CancellationTokenSource();
        var loop = new PagingLoop(h.Engine, h.Clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<PagingLoop>.Instance);
        await loop.StartAsync(cts.Token);
        await h.AlertAsync("gateway2", "rblcheck: listed");
        await Eventually.TrueAsync(() => h.Channel.Lines.Contains("URGENT gateway2 - rblcheck: listed"));
        foreach (var left in new[] { 25, 20, 15, 10, 5 })
        {
            h.Clock.Advance(S5);
            await Eventually.TrueAsync(() => h.Channel.Lines.Contains($"LarsSMS: 'gateway2: rblcheck: listed' in {left} secs to {Brong}"));
        }
        h.Clock.Advance(S5);
        await Eventually.TrueAsync(() => h.Channel.Lines.Any(l => l.StartsWith($"LarsSMS: paging {Brong} now")));
        // The loop looks at least every 30 s, so 30 s steps each wake it; the tenth reaches 5:30.
        for (var i = 0; i < 10; i++)
        {
            h.Clock.Advance(TimeSpan.FromSeconds(30));
            await Eventually.TrueAsync(() => h.Engine.LastLoopAt >= h.Clock.GetUtcNow());
        }
        await Eventually.TrueAsync(() => h.Channel.Lines.Any(l => l.StartsWith("LarsSMS: nobody acked in 5 minutes")));
        Assert.Equal(7, (await h.PagesAsync()).Count);
        await loop.StopAsync(CancellationToken.None);
    }
}
