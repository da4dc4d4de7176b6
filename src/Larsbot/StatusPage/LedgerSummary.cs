using Larsbot.Ledger;

namespace Larsbot.StatusPage;

/// <summary>
/// This month's payout so far, the same numbers as `lars payout`, kept for a minute. Building it settles ended days
/// (the same idempotent step the ledger loop takes every 5 minutes), so a page reloaded in a loop must not do it on
/// every hit; the live part of the page never asks for it.
/// </summary>
internal sealed class LedgerSummary(Payouts payouts, TimeProvider time)
{
    public static readonly TimeSpan KeepFor = TimeSpan.FromMinutes(1);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (PayoutReport Report, DateTimeOffset At)? _cached;

    public async Task<PayoutReport> ThisMonthAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var now = time.GetUtcNow();
            if (_cached is { } c && now - c.At < KeepFor && c.Report.Month == payouts.MonthNow()) return c.Report;
            var report = await payouts.BuildAsync(payouts.MonthNow(), ct);
            _cached = (report, now);
            return report;
        }
        finally
        {
            _gate.Release();
        }
    }
}
