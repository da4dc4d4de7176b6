using Larsbot.Roster;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quartz;

namespace Larsbot.Ledger;

/// <summary>
/// Quartz fires this on the 1st at 09:00 ledger time. It holds no logic: <see cref="Payouts.RunDueAsync"/> decides
/// from the payout_runs rows and the injected clock, which tests can drive and Quartz's own clock cannot.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class MonthlyPayoutJob(Payouts payouts) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) => await payouts.RunDueAsync(cancellationToken);
}

/// <summary>
/// The ledger's housekeeping: at start, any monthly report that was due while the bot was down (a restart on the 1st
/// does not skip it); then every few minutes, settle the days that have ended and say the daily report reminders.
/// </summary>
internal sealed class LedgerLoop(LedgerStore ledger, Payouts payouts, TimeProvider time, ILogger<LedgerLoop> log) : BackgroundService, Setup.ILeaderOnly
{
    public static readonly TimeSpan Every = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var first = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (first) await payouts.RunDueAsync(stoppingToken);
                first = false;
                await ledger.SettleAsync(time.GetUtcNow(), stoppingToken);
                await payouts.RemindAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "Ledger housekeeping failed; trying again in {Every}", Every);
            }
            try
            {
                await Task.Delay(Every, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

public static class LedgerServiceCollectionExtensions
{
    /// <summary>Incident reports, the ledger, the payout report and its monthly job.</summary>
    public static IServiceCollection AddLedger(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<LedgerOptions>(config.GetSection("Ledger"));
        services.AddSingleton<LedgerStore>();
        services.AddSingleton<Payouts>();
        services.AddSingleton<IncidentReports>();
        services.AddHostedService<LedgerLoop>();
        services.AddQuartz(q =>
        {
            q.ScheduleJob<MonthlyPayoutJob>((sp, t) =>
            {
                var at = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<LedgerOptions>>().Value.RunAt;
                t.WithIdentity("monthly-payout")
                    .WithCronSchedule($"0 {at.Minutes} {at.Hours} 1 * ?", c => c.InTimeZone(sp.GetRequiredService<TeamRoster>().Ledger.TimeZone));
            });
        });
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return services;
    }
}
