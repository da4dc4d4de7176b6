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
        while (!stoppingToken.IsCancellationRequested)
        {
            DateTimeOffset? next;
            var sinceLast = Stopwatch.GetElapsedTime(lastPass);
            if (lastPass != 0 && sinceLast < engine.Options.MinPassGap)
            {
                // Let arrivals gather: one pass handles them all (see PagingOptions.MinPassGap).
                try { await Task.Delay(engine.Options.MinPassGap - sinceLast, stoppingToken); }
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
}
