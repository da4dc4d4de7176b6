using Dapper;
using Larsbot.Notify;
using Larsbot.Storage;
using Microsoft.Extensions.Logging;

namespace Larsbot.Outbox;

/// <summary>
/// Pushover emergency pages ring the phone again every retry interval until someone acknowledges them there. When a
/// countdown is acked (any way) or resolved, its emergency pages that were sent are queued for cancelling in that same
/// transaction; a page that was still on the wire is queued when its receipt comes back. The outbox sender drains the
/// queue with the same durable retries as pages.
/// </summary>
internal static class ReceiptCancels
{
    /// <summary>Every sent emergency page of a countdown (@countdownId) that is being closed now (@now).</summary>
    public const string QueueForCountdownSql = """
        INSERT INTO receipt_cancels(page_id, receipt, created_at, state, next_attempt_at)
        SELECT id, receipt, @now, 'due', @now FROM outbox WHERE countdown_id = @countdownId AND state = 'sent' AND receipt IS NOT NULL
        ON CONFLICT DO NOTHING
        """;

    /// <summary>One page (@id) just recorded as sent, if its countdown was closed while it was on the wire.</summary>
    public const string QueueForClosedPageSql = """
        INSERT INTO receipt_cancels(page_id, receipt, created_at, state, next_attempt_at)
        SELECT id, receipt, @now, 'due', @now FROM outbox
        WHERE id = @id AND receipt IS NOT NULL AND cancelled_at IS NOT NULL
        ON CONFLICT DO NOTHING
        """;
}

internal sealed class ReceiptCancelRow
{
    public long PageId { get; set; }
    public string Receipt { get; set; } = "";
    public long CreatedAt { get; set; }
    public long Attempts { get; set; }
}

public sealed partial class OutboxSender
{
    private async Task CancelOneAsync(ReceiptCancelRow cancel, CancellationToken ct)
    {
        SendResult result;
        if (_notifiers.GetValueOrDefault("push") is not IReceiptCanceller canceller)
        {
            result = SendResult.GiveUp("Pushover is not configured: cannot cancel the receipt");
        }
        else
        {
            try
            {
                result = await canceller.CancelAsync(cancel.Receipt, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return; // left 'sending': cancelled again at the next start
            }
            catch (Exception e)
            {
                result = SendResult.Retry($"canceller crashed: {e.GetType().Name}");
            }
        }

        var now = _time.GetUtcNow();
        var state = result.Outcome switch
        {
            SendOutcome.Sent => "done",
            SendOutcome.Retry when now - UnixMs.To(cancel.CreatedAt) <= _options.RetryFor => "due",
            _ => "failed",
        };
        var next = state == "due" ? now + Max(Backoff((int)cancel.Attempts), result.RetryAfter) : now;
        try
        {
            await _db.WriteAsync((c, tx) => c.ExecuteAsync(
                "UPDATE receipt_cancels SET state = @state, next_attempt_at = @next, done_at = @done, detail = @detail WHERE page_id = @id",
                new { state, next = UnixMs.From(next), done = state == "due" ? (long?)null : UnixMs.From(now), detail = result.Detail, id = cancel.PageId }, tx));
        }
        catch (Exception e)
        {
            _log.LogError(e, "Could not record the receipt cancel of page {PageId}; it is tried again at start", cancel.PageId);
            return;
        }
        if (state == "done")
            _log.LogInformation("Emergency page {PageId} cancelled at Pushover: it stops ringing", cancel.PageId);
        else
            _log.LogWarning("Cancelling emergency page {PageId} at Pushover: {State}: {Detail}", cancel.PageId, state, result.Detail);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan? b) => b is { } x && x > a ? x : a;
}
