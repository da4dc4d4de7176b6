using Dapper;
using Larsbot.Outbox;
using Larsbot.Roster;
using Larsbot.Storage;
using Microsoft.Extensions.Logging;

namespace Larsbot.Paging;

/// <summary>
/// What the provider says after it accepted a page: Twilio's status callbacks (or polling the message when no public
/// URL is configured). Each report is kept (delivery_events); the page's delivery_state only moves forward, so a late
/// or repeated callback changes nothing. When the on-duty person's first page fails to arrive (an SMS undelivered or
/// failed, a call busy, unanswered or failed), the channel hears it and the next way to reach them goes now (a push
/// if none went, a call if they have "call": true) instead of waiting for the everyone-page.
/// </summary>
public sealed class DeliveryReports(Database db, TeamRoster roster, OutboxStore outbox, TimeProvider time,
    ILogger<DeliveryReports> log) : ISentObserver
{
    Task ISentObserver.SentAsync(string providerId, CancellationToken ct) => ApplyPendingAsync(providerId, ct);

    /// <summary>How far along a state is; a report never moves a page back. Terminal states are 4 (read after delivered).</summary>
    public static int Rank(string state) => state switch
    {
        "accepted" or "scheduled" or "queued" or "initiated" => 1,
        "sending" or "ringing" => 2,
        "sent" or "in-progress" => 3,
        "read" or "acked" => 5,
        _ => IsFailure(state) || state is "delivered" or "completed" ? 4 : 0,
    };

    /// <summary>The provider could not get the page to the phone.</summary>
    public static bool IsFailure(string state) => state is "undelivered" or "failed" or "busy" or "no-answer" or "canceled";

    internal sealed class ReportedPage
    {
        public long Id { get; set; }
        public long CountdownId { get; set; }
        public string Stage { get; set; } = "";
        public string PersonId { get; set; } = "";
        public string Channel { get; set; } = "";
        public string? DeliveryState { get; set; }
        public string CountdownState { get; set; } = "";
    }

    /// <summary>
    /// Records one report for the page the provider knows as <paramref name="providerId"/>. False: no such page yet (the
    /// report is kept, and applied when the page is recorded as sent: see <see cref="ApplyPendingAsync"/>).
    /// </summary>
    public async Task<bool> RecordAsync(string providerId, string state, string? errorCode, string source, CancellationToken ct = default)
    {
        var nowMs = UnixMs.From(time.GetUtcNow());
        var outcome = await db.WriteAsync((c, tx) => RecordInAsync(c, tx, providerId, state.Trim().ToLowerInvariant(), errorCode, source, nowMs), ct);
        if (!outcome.Found) log.LogInformation("Delivery report '{State}' for a message not recorded yet kept for later", state);
        Announce([outcome]);
        return outcome.Found;
    }

    /// <summary>A Pushover emergency page was acknowledged on the phone: "push neilj acked".</summary>
    public Task RecordPushAckedAsync(string receipt, CancellationToken ct = default)
    {
        var nowMs = UnixMs.From(time.GetUtcNow());
        return db.WriteAsync(async (c, tx) =>
        {
            if (await c.QuerySingleOrDefaultAsync<PushPage>(
                    "SELECT id, delivery_state FROM pages WHERE channel = 'push' AND provider_id = @receipt", new { receipt }, tx)
                is not { } page) return;
            await c.ExecuteAsync("INSERT INTO delivery_events(page_id, provider_id, state, at, source) VALUES (@id, @receipt, 'acked', @now, 'pushover')",
                new { id = page.Id, receipt, now = nowMs }, tx);
            if (page.DeliveryState != "acked") await OutboxStore.RecordDeliveryAsync(c, tx, page.Id, "acked", null, nowMs);
        }, ct);
    }

    /// <summary>Reports that arrived before the page was recorded as sent, applied in the order they came.</summary>
    public async Task ApplyPendingAsync(string providerId, CancellationToken ct = default)
    {
        var nowMs = UnixMs.From(time.GetUtcNow());
        var outcomes = await db.WriteAsync(async (c, tx) =>
        {
            var pending = (await c.QueryAsync<PendingEvent>(
                "SELECT id, state, error_code, source FROM delivery_events WHERE provider_id = @providerId AND page_id IS NULL ORDER BY id",
                new { providerId }, tx)).ToList();
            var list = new List<Outcome>();
            foreach (var p in pending)
            {
                await c.ExecuteAsync("DELETE FROM delivery_events WHERE id = @id", new { id = p.Id }, tx);
                list.Add(await RecordInAsync(c, tx, providerId, p.State, p.ErrorCode, p.Source, nowMs));
            }
            return list;
        }, ct);
        Announce(outcomes);
    }

    private sealed record Outcome(bool Found, string? Say, bool Wrote);

    internal sealed class PushPage
    {
        public long Id { get; set; }
        public string? DeliveryState { get; set; }
    }

    internal sealed class PendingEvent
    {
        public long Id { get; set; }
        public string State { get; set; } = "";
        public string? ErrorCode { get; set; }
        public string Source { get; set; } = "";
    }

    internal sealed class PageText
    {
        public string Title { get; set; } = "";
        public string Body { get; set; } = "";
    }

    /// <summary>The line is already in the outbox (written with the report); this logs it and wakes the sender.</summary>
    private void Announce(IEnumerable<Outcome> outcomes)
    {
        foreach (var o in outcomes)
        {
            if (o.Say is not null) log.LogWarning("{Line}", o.Say);
            if (o.Wrote || o.Say is not null) outbox.Wake.Set();
        }
    }

    private async Task<Outcome> RecordInAsync(System.Data.IDbConnection c, System.Data.IDbTransaction tx, string providerId, string state,
        string? errorCode, string source, long nowMs)
    {
        var page = await c.QuerySingleOrDefaultAsync<ReportedPage>("""
            SELECT p.id, p.countdown_id, p.stage, p.person_id, p.channel, p.delivery_state, c.state AS countdown_state
            FROM pages p JOIN countdowns c ON c.id = p.countdown_id
            WHERE p.provider_id = @providerId AND p.channel IN ('sms', 'call')
            """, new { providerId }, tx);
        await c.ExecuteAsync(
            "INSERT INTO delivery_events(page_id, provider_id, state, error_code, at, source) VALUES (@id, @providerId, @state, @errorCode, @now, @source)",
            new { id = page?.Id, providerId, state, errorCode, now = nowMs, source }, tx);
        if (page is null) return new Outcome(false, null, false);
        // Forward only: 'sent' after 'delivered' (callbacks out of order) or the same state again changes nothing.
        if (page.DeliveryState is { } current && Rank(state) <= Rank(current)) return new Outcome(true, null, false);
        await OutboxStore.RecordDeliveryAsync(c, tx, page.Id, state, errorCode, nowMs);
        if (!IsFailure(state) || page.Stage != "first" || page.CountdownState is not ("paged" or "counting")) return new Outcome(true, null, false);

        // The on-duty person's page did not arrive and nobody has acked: try the next way now.
        var person = roster.FindById(page.PersonId);
        var what = page.Channel == "sms" ? "SMS" : "call";
        var why = errorCode is null ? state : $"{errorCode} {ErrorText(errorCode) ?? state}";
        var next = new List<string>();
        if (person?.Pushover is { } key && await NextAsync(c, tx, page, "push", key, nowMs)) next.Add("push");
        if (person is { Call: true, Phone: { } phone } && page.Channel != "call" && await NextAsync(c, tx, page, "call", phone, nowMs)) next.Add("call");
        var say = $"{what} to {page.PersonId} failed: {why}" +
                  (next.Count > 0 ? $"; trying {string.Join(" and ", next)} now" : "; no other way to reach them before everybody is paged");
        await OutboxStore.SayAsync(c, tx, UnixMs.To(nowMs), say);
        return new Outcome(true, say, next.Count > 0);
    }

    /// <summary>The same page on another channel, unless one was already decided for this countdown and person.</summary>
    private static async Task<bool> NextAsync(System.Data.IDbConnection c, System.Data.IDbTransaction tx, ReportedPage failed,
        string channel, string destination, long nowMs)
    {
        var text = await c.QuerySingleAsync<PageText>("SELECT title, body FROM pages WHERE id = @id", new { id = failed.Id }, tx);
        return await OutboxStore.PageAsync(c, tx, UnixMs.To(nowMs), failed.CountdownId, "first", failed.PersonId, channel, destination, text.Title, text.Body);
    }

    /// <summary>Twilio's most common delivery error codes, in words a tired human reads.</summary>
    private static string? ErrorText(string code) => code switch
    {
        "30003" => "unreachable",
        "30004" => "blocked",
        "30005" => "unknown number",
        "30006" => "landline or unreachable carrier",
        "30007" => "filtered as spam",
        "30008" => "unknown error",
        _ => null,
    };
}
