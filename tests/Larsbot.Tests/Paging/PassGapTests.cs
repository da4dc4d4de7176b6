using System.Diagnostics;
using Dapper;
using Larsbot.Paging;
using Larsbot.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Larsbot.Tests.Paging;

/// <summary>
/// How far apart the loop runs passes: MinPassGap always, StormPassGap while a storm's alerts keep coming (fewer,
/// larger passes: the channel hears a storm as grouped lines anyway), never holding back something due.
/// </summary>
public class PassGapTests
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);
    private static readonly PagingOptions Defaults = new(); // MinPassGap 5 ms, StormPassGap 20 ms, StormThreshold 5

    [Theory]
    // A quiet pass (at most StormThreshold new alerts): MinPassGap from its start.
    [InlineData(0, 0, null, 5)]
    [InlineData(5, 2, null, 3)]
    [InlineData(1, 9, null, 0)]
    // A storm's pass: StormPassGap from its start.
    [InlineData(6, 0, null, 20)]
    [InlineData(100, 4, null, 16)]
    [InlineData(255, 25, null, 0)]
    // A full slice (MaxAlertsPerPass) left more waiting: only MinPassGap.
    [InlineData(256, 1, null, 4)]
    // Something due before the storm's gap ends is not held back for it, only for MinPassGap.
    [InlineData(100, 1, 7, 7)]
    [InlineData(100, 1, 2, 4)]
    [InlineData(100, 1, -3000, 4)]
    [InlineData(100, 1, 30, 19)]
    [InlineData(3, 1, 2, 4)]
    public void The_wait_before_the_next_pass(int lastFresh, int sinceLastMs, int? untilDueMs, int expectedMs)
    {
        var wait = PagingLoop.WaitBeforePass(sinceLastMs * Ms, lastFresh, untilDueMs * Ms, Defaults);
        Assert.Equal(expectedMs * Ms, wait);
    }

    [Fact]
    public void A_storm_gap_shorter_than_the_minimum_gap_does_not_shorten_it()
    {
        var o = new PagingOptions { MinPassGap = TimeSpan.FromMilliseconds(50), StormPassGap = TimeSpan.FromMilliseconds(20) };
        Assert.Equal(50 * Ms, PagingLoop.WaitBeforePass(TimeSpan.Zero, 100, null, o));
    }

    [Fact]
    public void The_storm_gap_is_checked_like_the_minimum_gap()
    {
        Assert.Contains("Paging:StormPassGap must be between 0 and 1 s", new PagingOptions { StormPassGap = TimeSpan.FromSeconds(2) }.Validate());
        Assert.Contains("Paging:StormPassGap must be between 0 and 1 s", new PagingOptions { StormPassGap = -Ms }.Validate());
        Assert.Empty(new PagingOptions().Validate());
    }

    [Fact]
    public async Task The_engine_reports_how_many_new_alerts_its_last_pass_took()
    {
        using var h = new EngineHarness();
        for (var i = 0; i < 12; i++) await h.AlertAsync($"web{i}", "link down", "irc");
        await h.Engine.RunDueAsync();
        Assert.Equal(12, h.Engine.LastPassFresh);
        await h.Engine.RunDueAsync();
        Assert.Equal(0, h.Engine.LastPassFresh);
    }

    [Fact]
    public async Task While_a_storm_goes_on_the_next_pass_waits_for_the_storm_gap()
    {
        // Wall-clock time, as the gap is about CPU: a storm's pass (more than StormThreshold new alerts), then one more
        // alert straight after it, whose pass may not start before StormPassGap from the storm's pass (MinPassGap is 0).
        // Timed from before the storm's pass, so however slowly the test observes it, the bound below is exact.
        var h = new EngineHarness(options: new PagingOptions { MinPassGap = TimeSpan.Zero, StormPassGap = TimeSpan.FromMilliseconds(800) });
        using var _ = h;
        using var cts = new CancellationTokenSource();
        var loop = new PagingLoop(h.Engine, h.Clock, NullLogger<PagingLoop>.Instance);
        for (var i = 0; i < 10; i++) await h.AlertAsync($"web{i}", "link down", "irc");
        var storm = Stopwatch.StartNew();
        await loop.StartAsync(cts.Token);
        await Eventually.TrueAsync(async () => await UnhandledAsync(h) == 0);
        Assert.Equal(10, h.Engine.LastPassFresh);

        await h.AlertAsync("web10", "link down", "irc");
        await Eventually.TrueAsync(async () => await UnhandledAsync(h) == 0, TimeSpan.FromSeconds(10));
        Assert.True(storm.Elapsed >= TimeSpan.FromMilliseconds(790), $"handled {storm.ElapsedMilliseconds} ms after the loop started");
        await loop.StopAsync(CancellationToken.None);
    }

    private static Task<long> UnhandledAsync(EngineHarness h) =>
        h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM alerts WHERE handled_at IS NULL"));
}
