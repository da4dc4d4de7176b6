using Dapper;
using Larsbot.Paging;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Paging;

/// <summary>
/// Ack mode is "I'm on it for 30 minutes", not "resolved": an unkeyed alert still firing when it ends (a check that
/// keeps sending the same host and text) counts down and pages again, once per ack mode; one that stopped stays quiet.
/// </summary>
public class StillFiringTests
{
    private const string Paging30 = "paging again in 30 secs unless someone says 'lars ack'";

    private static async Task<EngineHarness> AckedAsync(PagingOptions? options = null)
    {
        var h = new EngineHarness(options: options);
        await h.TakeDutyAsync("brong", "brong");
        await h.AlertAsync("db1", "disk / at 99%");
        await h.Engine.RunDueAsync();
        await h.AckAsync("brong");
        h.Channel.Take();
        return h;
    }

    /// <summary>The check fires every <paramref name="every"/> for <paramref name="during"/>, the engine running as it would.</summary>
    private static async Task FiringAsync(EngineHarness h, TimeSpan during, TimeSpan every, string message = "disk / at 99%")
    {
        var t = TimeSpan.Zero;
        for (; t + every <= during; t += every)
        {
            await h.AdvanceAsync(every);
            await h.AlertAsync("db1", message);
        }
        await h.AdvanceAsync(during - t);
    }

    private static Task<long> OpenCountdownsAsync(EngineHarness h) =>
        h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM countdowns WHERE state IN ('counting','paged','escalated')"));

    [Fact]
    public async Task An_unkeyed_alert_still_firing_when_ack_mode_ends_counts_down_and_pages_again()
    {
        using var h = await AckedAsync();
        await FiringAsync(h, h.Options.AckModeFor - TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        Assert.Empty(h.Channel.Take()); // repeats in ack mode are counted, not said
        Assert.Equal(0, await OpenCountdownsAsync(h));

        await h.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal([$"ack mode over: 1 alert still open: db1; {Paging30}"], h.Channel.Take());
        Assert.Equal(1, await OpenCountdownsAsync(h));
        await h.AdvanceAsync(h.Options.Countdown);
        var lines = h.Channel.Take();
        Assert.Contains(lines, l => l.StartsWith("LarsSMS: paging brong", StringComparison.Ordinal) && l.Contains("db1: disk / at 99%"));
        Assert.Equal(2, (await h.PagesAsync()).Count); // sms + push to brong
    }

    [Fact]
    public async Task An_unkeyed_alert_not_seen_again_during_ack_mode_stays_quiet()
    {
        using var h = await AckedAsync();
        await h.AdvanceAsync(h.Options.AckModeFor);
        Assert.Equal(["ack mode over: back to normal mode, urgent alerts page again"], h.Channel.Take());
        await h.AdvanceAsync(TimeSpan.FromMinutes(10));
        Assert.Equal(0, await OpenCountdownsAsync(h));
        Assert.Empty(await h.PagesAsync());
    }

    [Fact]
    public async Task It_re_enters_once_per_ack_mode_and_stays_quiet_after_the_next_ack_if_it_stopped()
    {
        using var h = await AckedAsync();
        await FiringAsync(h, h.Options.AckModeFor, TimeSpan.FromMinutes(2));
        var over = h.Channel.Take().Where(l => l.StartsWith("ack mode over", StringComparison.Ordinal)).ToList();
        Assert.Equal([$"ack mode over: 1 alert still open: db1; {Paging30}"], over);

        // Acked again, still firing through the second ack mode: it comes back once more, with one line.
        await h.AckAsync("brong");
        Assert.Contains(h.Channel.Take(), l => l.StartsWith("ack: OK brong acked 1 issues", StringComparison.Ordinal));
        await FiringAsync(h, h.Options.AckModeFor, TimeSpan.FromMinutes(2));
        Assert.Single(h.Channel.Take(), l => l.StartsWith("ack mode over: 1 alert still open", StringComparison.Ordinal));

        // Acked a third time, and the check stops: the third ack mode ends quietly.
        await h.AckAsync("brong");
        h.Channel.Take();
        await h.AdvanceAsync(h.Options.AckModeFor + TimeSpan.FromMinutes(5));
        Assert.Equal(["ack mode over: back to normal mode, urgent alerts page again"], h.Channel.Take());
        Assert.Equal(0, await OpenCountdownsAsync(h));
        var reopens = await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM countdown_reopens"));
        Assert.Equal(2, reopens);
    }

    [Fact]
    public async Task A_repeat_after_a_quiet_ack_mode_end_of_an_acked_alert_re_enters_the_countdown()
    {
        // Ack mode shorter than the dedup window (Paging:AckModeFor=5m, DedupWindow 10m): the check was quiet during
        // ack mode, which ends quietly, then fires again while the acked alert is still its original.
        using var h = await AckedAsync(new PagingOptions { AckModeFor = TimeSpan.FromMinutes(5) });
        await h.AdvanceAsync(TimeSpan.FromMinutes(5));
        Assert.Equal(["ack mode over: back to normal mode, urgent alerts page again"], h.Channel.Take());

        await h.AdvanceAsync(TimeSpan.FromMinutes(3));
        await h.AlertAsync("db1", "disk / at 99%");
        await h.Engine.RunDueAsync();
        Assert.Equal([$"URGENT db1 - disk / at 99% (still firing after the ack: {Paging30})"], h.Channel.Take());
        Assert.Equal(1, await OpenCountdownsAsync(h));

        // Further repeats count up on it while it counts down: said once.
        await h.AdvanceAsync(TimeSpan.FromSeconds(10));
        await h.AlertAsync("db1", "disk / at 99%");
        await h.Engine.RunDueAsync();
        Assert.DoesNotContain(h.Channel.Take(), l => l.StartsWith("URGENT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_host_shushed_since_the_ack_stays_quiet_when_ack_mode_ends()
    {
        using var h = await AckedAsync();
        await h.Silences.ShushAsync("brong", h.Roster.FindById("brong")!, "db*", TimeSpan.FromHours(2), "replacing the disk");
        await FiringAsync(h, h.Options.AckModeFor, TimeSpan.FromMinutes(2));
        Assert.Contains(h.Channel.Take(), l => l == "ack mode over: back to normal mode, urgent alerts page again");
        Assert.Equal(0, await OpenCountdownsAsync(h));
    }

    [Fact]
    public async Task A_different_text_from_the_same_host_is_its_own_alert_not_a_sign_the_old_one_still_fires()
    {
        using var h = await AckedAsync();
        await FiringAsync(h, h.Options.AckModeFor, TimeSpan.FromMinutes(2), message: "disk / at 98%");
        // The 98% alert arrived in ack mode and kept firing: it is the one that comes back, not the acked 99% one.
        Assert.Contains($"ack mode over: 1 alert still open: db1; {Paging30}", h.Channel.Take());
        var reopened = await h.Db.ReadAsync(c => c.QueryAsync<string>(
            "SELECT a.message FROM countdown_reopens r JOIN alerts a ON a.id = r.alert_id"));
        Assert.Equal(["disk / at 98%"], reopened);
    }
}
