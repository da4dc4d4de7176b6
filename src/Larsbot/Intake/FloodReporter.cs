using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Intake;

/// <summary>
/// Turns rate-limit refusals into one stored alert per flooding host per <see cref="IntakeOptions.FloodReportAfter"/>:
/// "flooding: 250 alerts held back (answered 429)". It goes through the engine like any alert, so the channel gets one
/// line instead of 250 and, when any refused alert was urgent, the report is itself urgent and pages: an urgent
/// alert that hit the limit can never vanish silently, even from a sender that does not retry.
/// </summary>
public sealed class FloodReporter(HostRateLimiter limiter, AlertIntake intake, IOptions<IntakeOptions> options, TimeProvider time,
    ILogger<FloodReporter> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await limiter.FirstRefusal.WaitAsync(null, time, stoppingToken);
                await Task.Delay(options.Value.FloodReportAfter, time, stoppingToken);
                await ReportAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public async Task ReportAsync(CancellationToken ct)
    {
        var every = Paging.PagingEngine.Duration(options.Value.FloodReportAfter);
        foreach (var (host, count, urgent) in limiter.TakeRefused())
        {
            var text = $"flooding: {count} alert{(count == 1 ? "" : "s")} held back in {every} (answered 429, not stored" +
                       (urgent > 0 ? $"; {urgent} urgent" : "") + "); the sender should retry";
            log.LogWarning("Host {Host} is flooding: {Count} alerts refused ({Urgent} urgent)", host, count, urgent);
            var r = await intake.StoreAsync(host, urgent > 0 ? "urgent" : "irc", text, "flood", ct);
            if (!r.Ok) log.LogError("Could not store the flood report for {Host}: {Error}", host, r.Error);
        }
    }
}
