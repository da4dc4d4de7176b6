using Larsbot.Text;
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
    /// <summary>The host a per-caller flood report is stored under.</summary>
    public const string ReportHost = "larsbot";

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
        var every = Text.Wording.Duration(options.Value.FloodReportAfter);
        foreach (var (subject, isCaller, count, urgent) in limiter.TakeRefused())
        {
            var held = $"{count} alert{(count == 1 ? "" : "s")} held back in {every} (answered 429, not stored" +
                       (urgent > 0 ? $"; {urgent} urgent" : "") + "); the sender should retry";
            // A caller over its own limit (many hosts, or invented ones) is reported under the bot's name.
            var (host, text) = isCaller ? (ReportHost, $"{subject} is flooding: {held}") : (subject, $"flooding: {held}");
            log.LogWarning("{Subject} is flooding: {Count} alerts refused ({Urgent} urgent)", isCaller ? subject : $"Host {subject}", count, urgent);
            var r = await intake.StoreAsync(host, urgent > 0 ? "urgent" : "irc", text, "flood", ct);
            if (!r.Ok) log.LogError("Could not store the flood report for {Subject}: {Error}", subject, r.Error);
        }
    }
}
