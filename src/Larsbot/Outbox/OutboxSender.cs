using Dapper;
using Larsbot.Notify;
using Larsbot.Storage;
using Larsbot.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Outbox;

/// <summary>
/// Drains the outbox (the pages table): pages to people, and the channel's lines and topic through the IRC notifier. A page is marked 'sending' (and the attempt row written) before the provider is called and
/// 'sent' with the provider's id after, so the only way to send twice is a crash between those two commits; such
/// pages are found at start, logged, counted, and sent again (a page may go out twice; it is never lost), unless
/// their countdown was acked meanwhile (cancelled_at): then they are not sent again.
/// An ack stops every page that is not already on the wire: the ack's transaction purges the due ones, and the claim
/// is a transaction of the same single writer (the ack commits either before it, and the page is purged, or after
/// it, and the request starts at once); no more pages are claimed than there are send slots, so none waits in memory.
/// Retrying lives here, once, for every notifier: durable backoff with jitter in next_attempt_at. It is not a Polly
/// pipeline on purpose: a Polly retry waits in memory, where a crash loses it and an ack cannot purge it.
/// </summary>
public sealed partial class OutboxSender : BackgroundService, Setup.ILeaderOnly
{
    private readonly Database _db;
    private readonly OutboxStore _outbox;
    private readonly TimeProvider _time;
    private readonly OutboxOptions _options;
    private readonly ILogger<OutboxSender> _log;
    private readonly Dictionary<string, INotifier> _notifiers;
    /// <summary>
    /// Requests in flight per channel: Pushover asks for at most 2 concurrent connections, and e-mail keeps to the same.
    /// One slow provider never blocks the other because each channel has its own slots.
    /// </summary>
    internal const int SlotsPerChannel = 2;

    /// <summary>
    /// Twilio's SMS and calls: an everybody-page sends one of each per person, and two at a time made the last person
    /// wait for the requests before theirs (each a few hundred milliseconds at Twilio; in the timing benchmark the third
    /// SMS of an escalation left about twice as late as the first two). Twilio answers past its account's concurrency
    /// limit with 429 (20429), a request it never processed, which the outbox retries.
    /// </summary>
    internal const int TwilioSlots = 8;

    /// <summary>
    /// Channel lines in flight: the IRC client queues them in order and paces them under the flood limit itself, so
    /// the outbox hands it several at once (a line completes when it is written to the socket).
    /// </summary>
    internal const int IrcSlots = 16;

    private static int Slots(string channel) => channel switch
    {
        OutboxStore.IrcChannel => IrcSlots,
        "sms" or "call" => TwilioSlots,
        _ => SlotsPerChannel,
    };
    private readonly Dictionary<string, int> _busy = [];
    private readonly List<Task> _inFlight = [];
    private long _duplicateRisk;
    private long _lastPassAtMs;
    private DateTimeOffset _pruneAt; // the first pass prunes; then hourly

    private readonly ISentObserver[] _observers;
    private readonly Leadership.Role _role;

    public OutboxSender(Database db, OutboxStore outbox, IEnumerable<INotifier> notifiers, TimeProvider time,
        IOptions<OutboxOptions> options, ILogger<OutboxSender> log, IEnumerable<ISentObserver>? observers = null, Leadership.Role? role = null)
    {
        _role = role ?? Leadership.Role.Sole();
        _observers = observers?.ToArray() ?? [];
        _db = db;
        _outbox = outbox;
        _time = time;
        _options = options.Value;
        _log = log;
        _notifiers = notifiers.ToDictionary(n => n.Channel);
    }

    /// <summary>Pages that may have gone out twice (crash mid-send, or a retry after a timeout/5xx).</summary>
    public long DuplicateRiskCount => Interlocked.Read(ref _duplicateRisk);

    /// <summary>When the sender last looked at the outbox (for /health: a stuck sender is an outage).</summary>
    public DateTimeOffset? LastPassAt => Interlocked.Read(ref _lastPassAtMs) is var ms and > 0 ? UnixMs.To(ms) : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await RecoverInterruptedAsync();
        while (!stoppingToken.IsCancellationRequested)
        {
            DateTimeOffset? next;
            var passAt = _time.GetUtcNow();
            try
            {
                next = await SendDueAsync(stoppingToken);
                if (passAt >= _pruneAt)
                {
                    _pruneAt = passAt + TimeSpan.FromHours(1);
                    if (await _outbox.PruneLinesAsync(passAt - _options.KeepChannelLinesFor, ct: stoppingToken) is var pruned and > 0)
                        _log.LogInformation("Deleted {Count} channel line(s) older than {Keep}", pruned, _options.KeepChannelLinesFor);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // The disk or database misbehaving must not kill the sender: log, wait a little, look again.
                _log.LogError(e, "Outbox pass failed; trying again shortly");
                next = _time.GetUtcNow() + _options.RetryMinDelay;
            }
            Interlocked.Exchange(ref _lastPassAtMs, UnixMs.From(_time.GetUtcNow()));
            // Look at least every 30 s so /health can tell a stuck sender from an idle one (absolute, as in PagingLoop).
            var latest = passAt + TimeSpan.FromSeconds(30);
            var until = next is { } n && n < latest ? n : latest;
            try
            {
                await _outbox.Wake.WaitUntilAsync(until, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        Task[] pending;
        lock (_inFlight) pending = [.. _inFlight];
        await Task.WhenAll(pending);
    }

    /// <summary>
    /// Pages left 'sending' by a crash: we cannot know if the provider got them. Say so, count it, send again; but
    /// never one whose countdown was acked (or resolved) meanwhile: it is purged, as the ack would have purged it.
    /// A channel line left 'sending' is said again (at worst twice), unless it has expired.
    /// </summary>
    public async Task RecoverInterruptedAsync()
    {
        var now = UnixMs.From(_time.GetUtcNow());
        var interrupted = await _db.WriteAsync(async (c, tx) =>
        {
            var rows = (await c.QueryAsync<InterruptedPage>(
                "SELECT id, channel, person_id, cancelled_at IS NOT NULL AS countdown_closed FROM outbox WHERE state = 'sending'",
                transaction: tx)).ToList();
            foreach (var p in rows)
            {
                await c.ExecuteAsync(
                    "UPDATE page_attempts SET finished_at = @now, outcome = 'interrupted', may_have_been_delivered = 1, detail = 'process stopped while sending' WHERE page_id = @id AND finished_at IS NULL",
                    new { now, id = p.Id }, tx);
                await c.ExecuteAsync("UPDATE outbox SET state = @state, next_attempt_at = @now WHERE id = @id",
                    new { now, id = p.Id, state = p.CountdownClosed ? "purged" : "due" }, tx);
            }
            // Cancelling a receipt twice is harmless: one interrupted mid-cancel is simply cancelled again.
            await c.ExecuteAsync("UPDATE receipt_cancels SET state = 'due', next_attempt_at = @now WHERE state = 'sending'", new { now }, tx);
            return rows;
        });
        foreach (var p in interrupted.Where(p => p.Channel != OutboxStore.IrcChannel))
        {
            Interlocked.Increment(ref _duplicateRisk);
            if (p.CountdownClosed)
                _log.LogWarning("Page {PageId} ({Channel} to {Person}) was being sent when the bot stopped; its countdown was acked since, so it is not sent again",
                    p.Id, p.Channel, p.PersonId);
            else
                _log.LogWarning("Page {PageId} ({Channel} to {Person}) was being sent when the bot stopped; sending again, it may arrive twice",
                    p.Id, p.Channel, p.PersonId);
        }
    }

    /// <summary>
    /// Starts due pages, as many per channel as it has free slots, and due receipt cancels; returns when the next retry
    /// is due. A finishing send wakes the loop, which then claims the next ones, each re-checked against acks.
    /// </summary>
    public async Task<DateTimeOffset?> SendDueAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        var nowMs = UnixMs.From(now);
        Dictionary<string, int> free;
        lock (_inFlight) free = _notifiers.Keys.ToDictionary(k => k, k => Slots(k) - _busy.GetValueOrDefault(k));
        // A read first (WAL: it waits for no one): the engine wakes the sender after nearly every pass, and in a storm
        // most of those find every slot busy or nothing due. Only a claim that will claim something takes the writer.
        var claimable = await _db.ReadAsync(c => c.ExecuteScalarAsync<bool>(ClaimableSql, new
        {
            now = nowMs, open = ChannelList(free.Where(f => f.Value > 0).Select(f => f.Key)), known = ChannelList(_notifiers.Keys),
            pushFree = free.GetValueOrDefault("push") > 0,
        }));
        var (pages, cancels) = !claimable ? ([], []) : await _db.WriteAsync(async (c, tx) =>
        {
            // Only the leader claims, and only while the lease is still its own in this very transaction.
            await _role.FenceAsync(c, tx);
            await c.ExecuteAsync(PurgeExpiredSql, new { now = nowMs }, tx);
            // Cancels first: a phone that is ringing for an acked page matters more than a page still to send.
            var cancelRows = new List<ReceiptCancelRow>();
            if (free.GetValueOrDefault("push") > 0)
            {
                cancelRows = (await c.QueryAsync<ReceiptCancelRow>(
                    "SELECT * FROM receipt_cancels WHERE state = 'due' AND next_attempt_at <= @now ORDER BY page_id LIMIT @n",
                    new { now = nowMs, n = free["push"] }, tx)).ToList();
                foreach (var r in cancelRows)
                {
                    await c.ExecuteAsync("UPDATE receipt_cancels SET state = 'sending', attempts = attempts + 1 WHERE page_id = @id", new { id = r.PageId }, tx);
                    r.Attempts++;
                }
                free["push"] -= cancelRows.Count;
            }
            var due = new List<PageRow>();
            foreach (var (channel, n) in free.Where(f => f.Value > 0))
                due.AddRange(await c.QueryAsync<PageRow>(DueOfChannelSql, new { now = nowMs, channel, n }, tx));
            // A page for a channel with no notifier is given up at once (it needs no slot). Channel lines wait for one.
            due.AddRange(await c.QueryAsync<PageRow>(
                "SELECT * FROM outbox WHERE state = 'due' AND next_attempt_at <= @now AND @known NOT LIKE '%,' || channel || ',%' AND channel <> 'irc' ORDER BY id LIMIT 100",
                new { now = nowMs, known = ChannelList(_notifiers.Keys) }, tx));
            var attempts = new List<(PageRow Page, long AttemptId)>();
            foreach (var p in due.OrderBy(p => p.Id))
            {
                await c.ExecuteAsync("UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = @id", new { id = p.Id }, tx);
                var attemptId = await c.ExecuteScalarAsync<long>(
                    "INSERT INTO page_attempts(page_id, started_at) VALUES (@id, @now) RETURNING id", new { id = p.Id, now = nowMs }, tx);
                p.Attempts++;
                attempts.Add((p, attemptId));
            }
            return (attempts, cancelRows);
        }, ct);

        foreach (var (page, attemptId) in pages)
            Start(page.Channel, () => SendOneAsync(page, attemptId, ct));
        foreach (var cancel in cancels)
            Start("push", () => CancelOneAsync(cancel, ct));

        // When to look next, over what this pass could send: a row of a channel whose slots are all busy waits for a
        // slot, and the slot's end wakes the loop. Counting it here (its time long past) made the loop spin.
        lock (_inFlight) free = _notifiers.Keys.ToDictionary(k => k, k => Slots(k) - _busy.GetValueOrDefault(k));
        return await _db.ReadAsync(async c =>
        {
            var ms = await c.ExecuteScalarAsync<long?>(NextDueSql, new
            {
                open = ChannelList(free.Where(f => f.Value > 0).Select(f => f.Key)), known = ChannelList(_notifiers.Keys),
                pushFree = free.GetValueOrDefault("push") > 0,
            });
            return ms is { } m ? UnixMs.To(m) : (DateTimeOffset?)null;
        });
    }

    private async Task InSlotAsync(string channel, bool counted, Func<Task> send)
    {
        try
        {
            await send();
        }
        finally
        {
            lock (_inFlight)
                if (counted) _busy[channel]--;
            _outbox.Wake.Set();
        }
    }

    /// <summary>Runs one request in a slot of its channel; when it ends the slot is free and the loop looks again.</summary>
    private void Start(string channel, Func<Task> send)
    {
        var counted = _notifiers.ContainsKey(channel);
        lock (_inFlight)
            if (counted) _busy[channel] = _busy.GetValueOrDefault(channel) + 1;
        // Called directly, not queued: the request is on its way before the claiming pass returns.
        var task = InSlotAsync(channel, counted, send);
        lock (_inFlight) _inFlight.Add(task);
        _ = task.ContinueWith(t => { lock (_inFlight) _inFlight.Remove(t); }, TaskScheduler.Default);
    }

    /// <summary>Waits for every send started so far (tests use it to observe outcomes deterministically).</summary>
    public async Task DrainAsync()
    {
        Task[] pending;
        lock (_inFlight) pending = [.. _inFlight];
        await Task.WhenAll(pending);
    }

    private async Task SendOneAsync(PageRow page, long attemptId, CancellationToken ct)
    {
        SendResult result;
        if (!_notifiers.TryGetValue(page.Channel, out var notifier))
        {
            result = SendResult.GiveUp($"no notifier for channel '{page.Channel}'");
        }
        else if (!_role.IsLeader)
        {
            // The lease ran out since the claim: leave it 'sending' for the next leader, which sends it (and counts the
            // risk it went twice) rather than this instance sending it after a standby may have started.
            return;
        }
        else
        {
            try
            {
                // A follow-up ("brong has it") must not ring like a page: it goes at normal priority. A channel line
                // is urgent when it is a paging line: it goes ahead of chatter.
                var urgent = page.Channel == OutboxStore.IrcChannel ? page.Title == "paging" : page.Stage != "followup";
                result = await notifier.SendAsync(new PageMessage(page.PersonId ?? "", page.Destination, page.Title, page.Body)
                    { Urgent = urgent }, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Shutting down mid-send: leave it 'sending'; the next start finds it and counts the risk.
                return;
            }
            catch (Exception e)
            {
                result = SendResult.Retry($"notifier crashed: {e.GetType().Name}", mayHaveBeenDelivered: true);
            }
        }

        try
        {
            await RecordAsync(page, attemptId, result);
        }
        catch (Exception e)
        {
            _log.LogError(e, "Could not record the outcome of page {PageId}; it stays 'sending' and is re-checked at start", page.Id);
        }
    }

    private async Task RecordAsync(PageRow page, long attemptId, SendResult result)
    {
        var now = _time.GetUtcNow();
        var nowMs = UnixMs.From(now);
        string? say = null;
        DateTimeOffset? retryAt = null;
        var cancelQueued = false;
        var line = page.Channel == OutboxStore.IrcChannel;
        var outcome = result.Outcome switch
        {
            SendOutcome.Sent => "sent",
            SendOutcome.Retry => "retry",
            _ => "give_up",
        };
        if (result.Outcome == SendOutcome.Retry)
        {
            if (now - UnixMs.To(page.CreatedAt) > _options.RetryFor)
            {
                outcome = "give_up";
                say = $"page FAILED: {page.Channel} to {page.PersonId} gave up after {page.Attempts} tries: {result.Detail}";
            }
            else
            {
                var backoff = Backoff((int)page.Attempts);
                if (result.RetryAfter is { } ra && ra > backoff) backoff = ra;
                retryAt = now + backoff;
                if (page.Attempts == 1 && !line)
                    say = $"page problem: {page.Channel} to {page.PersonId} failed ({result.Detail}); retrying in {Wording.Duration(backoff)}";
            }
            if (result.MayHaveBeenDelivered && !line) Interlocked.Increment(ref _duplicateRisk);
        }
        else if (result.Outcome == SendOutcome.GiveUp)
        {
            say = $"page FAILED: {page.Channel} to {page.PersonId}: {result.Detail}";
        }
        // A channel line that cannot be said is not itself said in the channel.
        if (line) say = null;

        await _db.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(
                "UPDATE page_attempts SET finished_at = @now, outcome = @outcome, detail = @detail, may_have_been_delivered = @may WHERE id = @attemptId",
                new { now = nowMs, outcome, detail = result.Detail, may = result.MayHaveBeenDelivered ? 1 : 0, attemptId }, tx);
            if (outcome == "sent")
            {
                await c.ExecuteAsync("UPDATE outbox SET state = 'sent', sent_at = @now, provider_id = @pid, receipt = @receipt WHERE id = @id",
                    new { now = nowMs, pid = result.ProviderId, receipt = result.Receipt, id = page.Id }, tx);
                // On the wire when the ack landed: an emergency page would ring until acknowledged, so stop it now.
                cancelQueued = await c.ExecuteAsync(ReceiptCancels.QueueForClosedPageSql, new { now = nowMs, id = page.Id }, tx) > 0;
            }
            else if (outcome == "retry")
                // 'sending' rows are never purged by an ack; it marks them cancelled instead, so an acked page is not retried.
                await c.ExecuteAsync(
                    "UPDATE outbox SET state = CASE WHEN cancelled_at IS NOT NULL THEN 'purged' ELSE 'due' END, next_attempt_at = @next WHERE id = @id",
                    new { next = UnixMs.From(retryAt!.Value), id = page.Id }, tx);
            else
                await c.ExecuteAsync("UPDATE outbox SET state = 'failed' WHERE id = @id", new { id = page.Id }, tx);
            if (say is not null) await OutboxStore.SayAsync(c, tx, now, say);
        });

        if (line && outcome == "sent")
            _log.LogDebug("Line {PageId} said", page.Id);
        else if (outcome == "sent")
            _log.LogInformation("Page {PageId} sent by {Channel} to {Person} ({ProviderId})", page.Id, page.Channel, page.PersonId, result.ProviderId);
        else
            _log.LogWarning("Page {PageId} {Channel} to {Person}: {Outcome}: {Detail}", page.Id, page.Channel, page.PersonId, outcome, result.Detail);
        if (retryAt is not null || cancelQueued || say is not null) _outbox.Wake.Set();
        // A delivery report may have overtaken the provider's answer: apply it now the page is known by its id.
        if (outcome == "sent" && !line && result.ProviderId is { } providerId)
            foreach (var observer in _observers) await observer.SentAsync(providerId);
    }

    /// <summary>Exponential from RetryMinDelay to RetryMaxDelay, with ±25% jitter so retries from many pages spread out.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var baseMs = _options.RetryMinDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempts - 1, 16));
        baseMs = Math.Min(baseMs, _options.RetryMaxDelay.TotalMilliseconds);
        var jitter = 0.75 + Random.Shared.NextDouble() * 0.5;
        return TimeSpan.FromMilliseconds(baseMs * jitter);
    }
}
