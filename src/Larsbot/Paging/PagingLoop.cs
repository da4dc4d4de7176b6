using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Larsbot.Paging;

/// <summary>Runs the engine whenever something is due or something arrived. The loop holds no state of its own.</summary>
public sealed class PagingLoop(PagingEngine engine, TimeProvider time, ILogger<PagingLoop> log) : BackgroundService, Setup.ILeaderOnly
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lastPass = 0L;
        DateTimeOffset? next = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = lastPass == 0 ? TimeSpan.Zero
                : WaitBeforePass(Stopwatch.GetElapsedTime(lastPass), engine.LastPassFresh, next - time.GetUtcNow(), engine.Options);
            if (wait > TimeSpan.Zero)
            {
                // Let arrivals gather: one pass handles them all (see PagingOptions.MinPassGap and StormPassGap).
                try { await Task.Delay(wait, stoppingToken); }
                catch (OperationCanceledException) { break; }
            }
            lastPass = Stopwatch.GetTimestamp();
            var passAt = time.GetUtcNow();
            try
            {
                next = await engine.RunDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // A failing disk must not end paging: keep trying every second; /health shows the engine is stale.
                log.LogError(e, "Paging engine pass failed; retrying in 1 s");
                next = time.GetUtcNow() + TimeSpan.FromSeconds(1);
            }
            // Look at least every 30 s even when nothing is scheduled, so /health's "last loop" stays fresh. Both bounds
            // are absolute times, so however late this line runs the next look is not pushed back.
            var latest = passAt + TimeSpan.FromSeconds(30);
            var until = next is { } n && n < latest ? n : latest;
            try
            {
                await engine.Wake.WaitUntilAsync(until, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>
    /// How long to wait before the next pass, <paramref name="sinceLast"/> after the last one began: at least
    /// <see cref="PagingOptions.MinPassGap"/> between passes; <see cref="PagingOptions.StormPassGap"/> when the last pass
    /// found a storm's worth of new alerts (a full slice goes on after MinPassGap: more is waiting). Something due
    /// sooner (<paramref name="untilDue"/>: a countdown line, a page) waits only for MinPassGap.
    /// </summary>
    internal static TimeSpan WaitBeforePass(TimeSpan sinceLast, int lastFresh, TimeSpan? untilDue, PagingOptions o)
    {
        var storm = lastFresh > o.StormThreshold && lastFresh < PagingEngine.MaxAlertsPerPass;
        var gap = storm && o.StormPassGap > o.MinPassGap ? o.StormPassGap : o.MinPassGap;
        var wait = gap - sinceLast;
        var soonest = o.MinPassGap - sinceLast; // never sooner, whatever is due
        if (untilDue is { } due && due < wait) wait = due > soonest ? due : soonest;
        return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
    }
}
