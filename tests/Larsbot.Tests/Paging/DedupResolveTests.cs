using Dapper;
using Larsbot.Intake;
using Larsbot.Paging;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Paging;

/// <summary>Repeats count up instead of announcing again; a resolve says RESOLVED and stops a countdown only it was in.</summary>
public class DedupResolveTests
{
    private static async Task<EngineHarness> WithBrongOnDutyAsync()
    {
        var h = new EngineHarness();
        await h.TakeDutyAsync("brong", "brong");
        h.Channel.Take();
        return h;
    }

    private static async Task<long> KeyedAsync(EngineHarness h, string host, string message, string key, string level = "urgent")
    {
        var r = await h.Intake.AcceptAsync(new AlertInput(host, level, message) { Key = key }, "test");
        Assert.True(r.Ok, r.Error);
        return r.Id!.Value;
    }

    private static async Task ResolveAsync(EngineHarness h, string? key, string? host = null, string? message = null)
    {
        var r = await h.Intake.RecordEventAsync("resolve", key, host, message, "test");
        Assert.True(r.Ok, r.Error);
    }

    private static Task<List<AlertRow>> AlertsAsync(EngineHarness h) =>
        h.Db.ReadAsync(async c => (await c.QueryAsync<AlertRow>("SELECT * FROM alerts ORDER BY id")).ToList());

    [Fact]
    public async Task A_repeat_with_the_same_key_counts_up_on_the_original_and_says_nothing()
    {
        using var h = await WithBrongOnDutyAsync();
        var first = await KeyedAsync(h, "db1", "disk full", "k1");
        await h.Engine.RunDueAsync();
        Assert.Equal(["URGENT db1 - disk full"], h.Channel.Take());

        await KeyedAsync(h, "db1", "disk full (97%)", "k1");
        await KeyedAsync(h, "db1", "disk full (98%)", "k1");
        await h.Engine.RunDueAsync();
        Assert.Empty(h.Channel.Take());

        var rows = await AlertsAsync(h);
        Assert.Equal(3, rows.Count); // stored, not dropped
        Assert.Equal(2, rows[0].Repeats);
        Assert.All(rows.Skip(1), r => { Assert.Equal("repeat", r.Disposition); Assert.Equal(first, r.DuplicateOf); });
        Assert.Single(await h.CountdownsAsync());
    }

    [Fact]
    public async Task Unkeyed_repeats_count_up_within_the_window_and_announce_again_after_it()
    {
        using var h = await WithBrongOnDutyAsync();
        await h.AlertAsync("web1", "load high", "irc");
        await h.Engine.RunDueAsync();
        await h.AdvanceAsync(TimeSpan.FromMinutes(9));
        await h.AlertAsync("web1", "load high", "irc");
        await h.AlertAsync("web2", "load high", "irc");
        await h.Engine.RunDueAsync();
        Assert.Equal(["irc web1 - load high", "irc web2 - load high"], h.Channel.Take());

        // The window slides from the last repeat: 9 + 9 minutes is still one alert; 11 minutes of quiet is a new one.
        await h.AdvanceAsync(TimeSpan.FromMinutes(9));
        await h.AlertAsync("web1", "load high", "irc");
        await h.Engine.RunDueAsync();
        Assert.Empty(h.Channel.Take());
        await h.AdvanceAsync(TimeSpan.FromMinutes(11));
        await h.AlertAsync("web1", "load high", "irc");
        await h.Engine.RunDueAsync();
        Assert.Equal(["irc web1 - load high"], h.Channel.Take());
    }

    [Fact]
    public async Task Copies_that_arrive_together_are_announced_once_even_before_the_original_is_handled()
    {
        // One pass takes them all (a burst, or a restart after a crash): the originals are not handled yet then.
        using var h = await WithBrongOnDutyAsync();
        await h.AlertAsync("web1", "load high", "irc");
        await KeyedAsync(h, "db1", "disk full", "k1", "irc");
        await h.AlertAsync("web1", "load high", "irc");
        await KeyedAsync(h, "db1", "disk full (98%)", "k1", "irc");
        await h.AlertAsync("web1", "load high", "irc");
        await h.AlertAsync("web2", "load high", "irc");
        // The window still counts inside a batch: a copy 11 minutes after the last one is news again.
        h.Clock.Advance(TimeSpan.FromMinutes(11));
        await h.AlertAsync("web1", "load high", "irc");
        await h.Engine.RunDueAsync();

        Assert.Equal(["irc web1 - load high", "irc db1 - disk full", "irc web2 - load high", "irc web1 - load high"], h.Channel.Take());
        var rows = await AlertsAsync(h);
        Assert.Equal(new long[] { 2, 1, 0, 0, 0, 0, 0 }, rows.Select(r => r.Repeats));
        Assert.Equal(new long?[] { null, null, rows[0].Id, rows[1].Id, rows[0].Id, null, null }, rows.Select(r => r.DuplicateOf));

        // Once handled, they are found through the index: the next copies of both count up on the newest original.
        await h.AlertAsync("web1", "load high", "irc");
        await KeyedAsync(h, "db1", "disk full", "k1", "irc");
        await h.Engine.RunDueAsync();
        Assert.Empty(h.Channel.Take());
        rows = await AlertsAsync(h);
        Assert.Equal(rows[6].Id, rows[7].DuplicateOf);
        Assert.Equal(rows[1].Id, rows[8].DuplicateOf);
    }

    [Fact]
    public async Task A_louder_alert_is_never_taken_for_a_repeat_of_a_quieter_one()
    {
        using var h = await WithBrongOnDutyAsync();
        // The README's own lars-notify example: the same key first at irc, then urgent. The urgent one must page.
        await KeyedAsync(h, "db1", "disk / at 85%", "disk-root", "irc");
        await h.AlertAsync("web1", "load high", "irc");
        await h.Engine.RunDueAsync();
        Assert.Equal(["irc db1 - disk / at 85%", "irc web1 - load high"], h.Channel.Take());

        var urgent = await KeyedAsync(h, "db1", "disk / at 97%", "disk-root");
        await h.AlertAsync("web1", "load high", "urgent");
        await h.Engine.RunDueAsync();
        Assert.Equal(["URGENT db1 - disk / at 97%", "URGENT web1 - load high"], h.Channel.Take());
        Assert.Single(await h.CountdownsAsync());

        // Quieter or as loud again: repeats of the urgent ones, nothing said.
        await KeyedAsync(h, "db1", "disk / at 98%", "disk-root");
        await KeyedAsync(h, "db1", "disk / at 90%", "disk-root", "irc");
        await h.AlertAsync("web1", "load high", "irc");
        await h.Engine.RunDueAsync();
        Assert.Empty(h.Channel.Take());
        var rows = await AlertsAsync(h);
        Assert.Equal(2, rows.Single(r => r.Id == urgent).Repeats);

        // Within one pass too: an irc alert and then an urgent one with the same new key are both said.
        await KeyedAsync(h, "mx1", "queue 5000", "mx-queue", "irc");
        await KeyedAsync(h, "mx1", "queue 50000", "mx-queue");
        await KeyedAsync(h, "mx1", "queue 60000", "mx-queue", "irc");
        await h.Engine.RunDueAsync();
        Assert.Equal(["irc mx1 - queue 5000", "URGENT mx1 - queue 50000"], h.Channel.Take());
        rows = await AlertsAsync(h);
        Assert.Equal(rows[^2].Id, rows[^1].DuplicateOf);
    }

    [Fact]
    public async Task Unkeyed_info_is_recorded_as_it_arrives_without_an_engine_pass_and_never_hides_a_louder_alert()
    {
        using var h = await WithBrongOnDutyAsync();
        var passes = h.Engine.Passes;
        var info = await h.AlertAsync("web1", "load high", "info");
        await h.AlertAsync("web1", "load high", "info");
        // Stored already handled: nothing for the engine to do, and a resolve waiting behind it is not held up.
        var rows = await AlertsAsync(h);
        Assert.All(rows, r => { Assert.Equal("recorded", r.Disposition); Assert.Equal(r.ReceivedAt, r.HandledAt); Assert.Null(r.DuplicateOf); });
        Assert.Equal(passes, h.Engine.Passes);

        // The same text at irc level is not a repeat of the info one: it is said.
        await h.AlertAsync("web1", "load high", "irc");
        await h.Engine.RunDueAsync();
        Assert.Equal(["irc web1 - load high"], h.Channel.Take());
        await h.AlertAsync("web1", "load high", "irc");
        await h.Engine.RunDueAsync();
        Assert.Empty(h.Channel.Take());

        // A resolve by host and text ends the irc alert; the info rows are records, never "open".
        await ResolveAsync(h, null, "web1", "load high");
        await h.Engine.RunDueAsync();
        Assert.Equal(["RESOLVED web1 - load high (seen 2 times)"], h.Channel.Take());
        rows = await AlertsAsync(h);
        Assert.Null(rows.Single(r => r.Id == info).ResolvedAt);
    }

    [Fact]
    public async Task Keyed_info_still_goes_through_the_engine_and_counts_up_by_key()
    {
        using var h = await WithBrongOnDutyAsync();
        var first = await KeyedAsync(h, "backup1", "backup late", "backup-nightly", "info");
        await KeyedAsync(h, "backup1", "backup later", "backup-nightly", "info");
        Assert.All(await AlertsAsync(h), r => Assert.Null(r.HandledAt));
        await h.Engine.RunDueAsync();
        var rows = await AlertsAsync(h);
        Assert.Equal(("recorded", 1), (rows[0].Disposition, rows[0].Repeats));
        Assert.Equal(("repeat", first), (rows[1].Disposition, rows[1].DuplicateOf));
        Assert.Empty(h.Channel.Take());
    }

    [Fact]
    public async Task Resolve_during_the_countdown_stops_it_and_nobody_is_paged()
    {
        using var h = await WithBrongOnDutyAsync();
        await KeyedAsync(h, "db1", "disk full", "k1");
        await h.AdvanceAsync(TimeSpan.FromSeconds(10));
        h.Channel.Take();

        await ResolveAsync(h, "k1");
        await h.Engine.RunDueAsync();
        Assert.Equal(["RESOLVED db1 - disk full", "resolved: page #1 stopped, everything in it is resolved"], h.Channel.Take());

        await h.AdvanceAsync(TimeSpan.FromMinutes(10));
        Assert.Empty(h.Channel.Take());
        Assert.Empty(await h.PagesAsync());
        var cd = Assert.Single(await h.CountdownsAsync());
        Assert.Equal(CountdownState.Acked, cd.State);
        Assert.Null(cd.AckId);
    }

    [Fact]
    public async Task Resolving_one_of_two_alerts_keeps_the_countdown_going()
    {
        using var h = await WithBrongOnDutyAsync();
        await KeyedAsync(h, "db1", "disk full", "k1");
        await KeyedAsync(h, "db2", "disk full", "k2");
        await h.Engine.RunDueAsync();
        h.Channel.Take();
        await ResolveAsync(h, "k1");
        await h.Engine.RunDueAsync();
        Assert.Equal(["RESOLVED db1 - disk full"], h.Channel.Take());

        await h.AdvanceAsync(TimeSpan.FromSeconds(30));
        Assert.Contains(h.Channel.Take(), l => l.StartsWith("LarsSMS: paging brong", StringComparison.Ordinal));
        Assert.Equal(2, (await h.PagesAsync()).Count);
    }

    [Fact]
    public async Task Resolve_after_the_page_purges_a_retry_and_stops_the_escalation()
    {
        using var h = await WithBrongOnDutyAsync();
        await KeyedAsync(h, "db1", "disk full", "k1");
        await h.AdvanceAsync(TimeSpan.FromSeconds(30));
        h.Channel.Take();
        Assert.Equal(2, (await h.PagesAsync()).Count);

        await ResolveAsync(h, "k1");
        await h.Engine.RunDueAsync();
        Assert.Equal(["RESOLVED db1 - disk full", "resolved: page #1 stopped, everything in it is resolved (2 unsent page(s) purged)"], h.Channel.Take());
        await h.AdvanceAsync(TimeSpan.FromMinutes(6));
        Assert.Empty(h.Channel.Take());
        Assert.All(await h.PagesAsync(), p => Assert.Equal("purged", p.State));
    }

    [Fact]
    public async Task Unkeyed_resolve_matches_host_and_text_and_an_unknown_resolve_is_recorded_silently()
    {
        using var h = await WithBrongOnDutyAsync();
        await h.AlertAsync("web1", "load high", "irc");
        await h.Engine.RunDueAsync();
        h.Channel.Take();
        await ResolveAsync(h, null, "web1", "load high");
        await ResolveAsync(h, "never-seen");
        await h.Engine.RunDueAsync();
        Assert.Equal(["RESOLVED web1 - load high"], h.Channel.Take());
        var matched = await h.Db.ReadAsync(c => c.QueryAsync<long>("SELECT matched FROM alert_events ORDER BY id"));
        Assert.Equal([1L, 0L], matched);

        // Resolved: the same text later is a new alert again.
        await h.AlertAsync("web1", "load high", "irc");
        await h.Engine.RunDueAsync();
        Assert.Equal(["irc web1 - load high"], h.Channel.Take());
    }

    [Fact]
    public async Task Resolve_needs_a_key_or_host_and_message()
    {
        using var h = new EngineHarness();
        var r = await h.Intake.RecordEventAsync("resolve", null, "web1", null, "test");
        Assert.False(r.Ok);
        Assert.Equal("resolve needs a key, or host and message", r.Error);
    }

    [Fact]
    public async Task Stale_ack_ack_mode_ends_with_keyed_alerts_still_open_so_they_count_down_again()
    {
        using var h = await WithBrongOnDutyAsync();
        await KeyedAsync(h, "db1", "disk full", "k1");
        await KeyedAsync(h, "db2", "disk full", "k2");
        await h.AlertAsync("web1", "unkeyed, cannot be resolved");
        await h.Engine.RunDueAsync();
        await h.AckAsync("brong");
        h.Channel.Take();

        await h.AdvanceAsync(h.Options.AckModeFor);
        Assert.Equal("ack mode over: 2 alerts still open: db1 (+1 more); paging again in 30 secs unless someone says 'lars ack'", h.Channel.Take()[0]);
        await h.AdvanceAsync(TimeSpan.FromSeconds(30));
        var paging = Assert.Single(h.Channel.Take(), l => l.StartsWith("LarsSMS: paging", StringComparison.Ordinal));
        Assert.Contains("'db1: disk full (+1 more from 2 hosts)'", paging);

        // `lars ack` covers them again; resolving both afterwards leaves nothing for the next ack mode to reopen.
        await h.AckAsync("brong");
        Assert.Contains(h.Channel.Take(), l => l.StartsWith("ack: OK brong acked 2 issues", StringComparison.Ordinal));
        await ResolveAsync(h, "k1");
        await ResolveAsync(h, "k2");
        await h.AdvanceAsync(h.Options.AckModeFor);
        Assert.Equal(["RESOLVED db1 - disk full", "RESOLVED db2 - disk full", "ack mode over: back to normal mode, urgent alerts page again"], h.Channel.Take());
    }

    [Fact]
    public async Task Ack_mode_ending_with_nothing_open_says_what_it_always_said()
    {
        using var h = await WithBrongOnDutyAsync();
        await KeyedAsync(h, "db1", "disk full", "k1");
        await h.Engine.RunDueAsync();
        await h.AckAsync("brong");
        await ResolveAsync(h, "k1");
        await h.Engine.RunDueAsync();
        h.Channel.Take();
        await h.AdvanceAsync(h.Options.AckModeFor);
        Assert.Equal(["ack mode over: back to normal mode, urgent alerts page again"], h.Channel.Take());
    }
}
