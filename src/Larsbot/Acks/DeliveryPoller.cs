using Dapper;
using Larsbot.Notify;
using Larsbot.Paging;
using Larsbot.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Acks;

/// <summary>
/// Without a public URL for Twilio's status callbacks (Twilio:StatusCallbackUrl), asks Twilio about every SMS and
/// call still in flight, every Twilio:StatusPollEvery for Twilio:StatusPollFor after it was sent, and records what it
/// says exactly as a callback would be (<see cref="DeliveryReports"/>).
/// </summary>
internal sealed class DeliveryPoller(Database db, DeliveryReports reports, IOptions<TwilioOptions> twilio, TwilioStatusReader? reader,
    TimeProvider time, ILogger<DeliveryPoller> log) : BackgroundService, Setup.ILeaderOnly
{
    private readonly TwilioOptions _options = twilio.Value;

    public bool Enabled => reader is not null && _options.IsConfigured && string.IsNullOrWhiteSpace(_options.StatusCallbackUrl);

    internal sealed class InFlight
    {
        public string Channel { get; set; } = "";
        public string ProviderId { get; set; } = "";
        public string? DeliveryState { get; set; }
    }

    /// <summary>One look at every SMS and call not yet known to have arrived or failed. Returns how many changed.</summary>
    public async Task<int> PollOnceAsync(CancellationToken ct)
    {
        if (reader is null) return 0;
        var since = UnixMs.From(time.GetUtcNow() - _options.StatusPollFor);
        var open = await db.ReadAsync(async c => (await c.QueryAsync<InFlight>("""
            SELECT channel, provider_id, delivery_state FROM pages
            WHERE channel IN ('sms', 'call') AND state = 'sent' AND provider_id IS NOT NULL AND provider_id <> 'unknown' AND sent_at >= @since
              AND (delivery_state IS NULL OR delivery_state IN ('accepted', 'scheduled', 'queued', 'initiated', 'sending', 'ringing', 'sent', 'in-progress'))
            ORDER BY id
            """, new { since })).ToList());
        var changed = 0;
        foreach (var p in open)
        {
            if (await reader.ReadAsync(p.Channel, p.ProviderId, ct) is not { } status || status.Status == p.DeliveryState) continue;
            if (DeliveryReports.Rank(status.Status) <= DeliveryReports.Rank(p.DeliveryState ?? "")) continue;
            await reports.RecordAsync(p.ProviderId, status.Status, status.ErrorCode, "poll", ct);
            changed++;
        }
        return changed;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.StatusPollEvery, time, stoppingToken);
                await PollOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                log.LogError(e, "Twilio delivery status poll failed; trying again in {Every}", _options.StatusPollEvery);
            }
        }
    }
}

public static class DeliveryPollingServiceCollectionExtensions
{
    /// <summary>Polls Twilio for delivery reports when no public status callback URL is configured.</summary>
    public static IServiceCollection AddDeliveryPolling(this IServiceCollection services)
    {
        services.AddSingleton(sp => new DeliveryPoller(sp.GetRequiredService<Database>(), sp.GetRequiredService<Larsbot.Paging.DeliveryReports>(),
            sp.GetRequiredService<IOptions<TwilioOptions>>(), NotifyServiceCollectionExtensions.StatusReader(sp), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<DeliveryPoller>>()));
        services.AddHostedService(sp => sp.GetRequiredService<DeliveryPoller>());
        return services;
    }
}
