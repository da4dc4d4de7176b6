using Dapper;
using Larsbot.Outbox;
using Larsbot.Roster;
using Larsbot.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static Larsbot.Text.Wording;

namespace Larsbot.Paging;

/// <summary>
/// Acks: `lars ack`, an SMS reply, `POST /ack`, a Pushover acknowledgement. One transaction closes every open
/// escalation, purges what was not sent, queues receipt cancels and follow-ups, starts (or renews) ack mode and
/// writes what the channel hears and the new topic. Nothing waits in memory: the engine and the outbox are woken to
/// act on the rows.
/// </summary>
public sealed class AckStore(Database db, TeamRoster roster, OutboxStore outbox, EngineWake wake, TimeProvider time,
    IOptions<PagingOptions> options, ILogger<AckStore> log)
{
    private readonly PagingOptions _options = options.Value;

    /// <summary>`lars ack`: stops every open escalation, purges what was not sent, and starts (or renews) ack mode.</summary>
    public async Task AckAsync(string nick, Person person, string source = "irc", CancellationToken ct = default) =>
        await AckCoreAsync(nick, person, source, onlyIfOpen: null, ct);

    /// <summary>
    /// An ack that only counts while the page it answers is still open (a Pushover acknowledgement, by callback or by
    /// polling the receipt): a late or repeated one finds the countdown closed and does nothing, so it can never start
    /// or renew ack mode by itself. The check is made in the ack's own transaction. True when it acked.
    /// </summary>
    public Task<bool> AckIfOpenAsync(string nick, Person person, string source, long countdownId, CancellationToken ct = default) =>
        AckCoreAsync(nick, person, source, countdownId, ct);

    private async Task<bool> AckCoreAsync(string nick, Person person, string source, long? onlyIfOpen, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var acked = await db.WriteAsync(async (c, tx) =>
            {
                var open = (await c.QueryAsync<CountdownRow>(PagingStore.UnackedCountdownsSql, transaction: tx)).ToList();
                if (onlyIfOpen is { } required && open.All(cd => cd.Id != required)) return false;
                var alertCount = 0;
                var purged = new List<string>();
                foreach (var cd in open)
                {
                    var (count, summary) = await PagingStore.SummaryOfAsync(c, tx, cd.Id);
                    alertCount += count;
                    if (cd.State == CountdownState.Counting)
                    {
                        var (targets, everybody) = await PagingStore.FirstPageTargetsAsync(c, tx, roster);
                        purged.Add($"sms purged: {PagingStore.Targets(targets, everybody)} '{Quote(summary)}'");
                    }
                    else if (cd.State == CountdownState.Paged)
                    {
                        purged.Add($"sms purged: everybody ({string.Join(", ", roster.People.Select(p => p.Id))}) '{Quote(summary)}'");
                    }
                    // Retries still waiting (a provider was failing) are stopped too; emergency pushes already
                    // delivered would ring again until acknowledged on each phone: they are cancelled. A page already
                    // claimed by the sender is on the wire: it is marked, so it is neither retried nor resent.
                    await OutboxStore.CancelCountdownAsync(c, tx, cd.Id, now);
                    await FollowUps.WriteAsync(c, tx, cd.Id, person.Id, now, _options, roster);
                }

                var ackId = await c.ExecuteScalarAsync<long>(
                    "INSERT INTO acks(at, nick, person_id, source, alerts_acked) VALUES (@at, @nick, @pid, @source, @n) RETURNING id",
                    new { at = UnixMs.From(now), nick, pid = person.Id, source, n = alertCount }, tx);
                foreach (var cd in open)
                    await c.ExecuteAsync("UPDATE countdowns SET state = 'acked', ack_id = @ackId WHERE id = @id", new { ackId, id = cd.Id }, tx);

                // A new ack renews ack mode: the old period ends now, a fresh one starts.
                await c.ExecuteAsync("UPDATE ack_modes SET ended_at = @now WHERE ended_at IS NULL", new { now = UnixMs.From(now) }, tx);
                // alerts_after: the alerts seen during this period are the ones after it (see ReopenStillFiringAsync).
                await c.ExecuteAsync(
                    "INSERT INTO ack_modes(started_at, ends_at, ack_id, alerts_after) VALUES (@s, @e, @ackId, (SELECT COALESCE(MAX(id), 0) FROM alerts))",
                    new { s = UnixMs.From(now), e = UnixMs.From(now + _options.AckModeFor), ackId }, tx);

                // The purged pages, then the topic change, then the answer, as in the seed transcript.
                foreach (var line in purged) await OutboxStore.SayAsync(c, tx, now, line);
                await OutboxStore.SetTopicAsync(c, tx, now, await TopicModule.ComposeAsync(c, tx, roster, now));
                await OutboxStore.SayAsync(c, tx, now, alertCount == 0
                    ? $"ack: no issues to ack. Ack mode enabled for {Duration(_options.AckModeFor)}"
                    : $"ack: OK {nick} acked {alertCount} issues. Ack mode enabled for {Duration(_options.AckModeFor)}");
                return true;
            }, ct);
        if (!acked) return false;

        log.LogInformation("Ack by {Nick} ({Person})", nick, person.Id);
        outbox.Wake.Set(); // the answer, purged pages leaving the queue, receipts to cancel
        wake.Set();
        return true;
    }
}
