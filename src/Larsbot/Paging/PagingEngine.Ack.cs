using Dapper;
using Larsbot.Irc;
using Larsbot.Roster;
using Larsbot.Storage;
using Microsoft.Extensions.Logging;

namespace Larsbot.Paging;

/// <summary>
/// Acks: `lars ack`, an SMS reply, `POST /ack`, a Pushover acknowledgement. One transaction closes every open
/// escalation, purges what was not sent, queues receipt cancels and follow-ups, and starts (or renews) ack mode.
/// </summary>
public sealed partial class PagingEngine
{
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
        await _gate.WaitAsync(ct);
        try
        {
            var now = _time.GetUtcNow();
            var said = new List<string>();
            var acked = await _db.WriteAsync(async (c, tx) =>
            {
                var open = (await c.QueryAsync<CountdownRow>(
                    "SELECT * FROM countdowns WHERE state IN ('counting','paged','escalated') ORDER BY id", transaction: tx)).ToList();
                if (onlyIfOpen is { } required && open.All(cd => cd.Id != required)) return false;
                var alertCount = 0;
                var purged = new List<string>();
                foreach (var cd in open)
                {
                    var (count, summary) = await SummaryOfAsync(c, tx, cd.Id);
                    alertCount += count;
                    if (cd.State == "counting")
                    {
                        var targets = await FirstPageTargetsAsync(c, tx);
                        var everybody = await CurrentDutyAsync(c, tx) is null;
                        purged.Add($"sms purged: {Targets(targets, everybody)} '{IrcText.Quote(summary)}'");
                    }
                    else if (cd.State == "paged")
                    {
                        purged.Add($"sms purged: everybody ({string.Join(", ", _roster.People.Select(p => p.Id))}) '{IrcText.Quote(summary)}'");
                    }
                    // Retries still waiting (a provider was failing) are stopped too. A page already claimed by the
                    // sender is on the wire; the sender re-checks every other one against this ack before it starts.
                    await c.ExecuteAsync("UPDATE pages SET state = 'purged' WHERE countdown_id = @id AND state = 'due'", new { id = cd.Id }, tx);
                    // Emergency pushes already delivered would ring again until acknowledged on each phone: stop them.
                    await c.ExecuteAsync(ReceiptCancels.QueueForCountdownSql, new { countdownId = cd.Id, now = UnixMs.From(now) }, tx);
                    await WriteFollowUpsAsync(c, tx, cd.Id, person.Id, now);
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

                said.AddRange(purged);
                said.Add(""); // where the topic change goes, as in the seed transcript
                said.Add(alertCount == 0
                    ? $"ack: no issues to ack. Ack mode enabled for {Duration(_options.AckModeFor)}"
                    : $"ack: OK {nick} acked {alertCount} issues. Ack mode enabled for {Duration(_options.AckModeFor)}");
                return true;
            }, ct);
            if (!acked) return false;

            _log.LogInformation("Ack by {Nick} ({Person})", nick, person.Id);
            var split = said.IndexOf("");
            Say(said[..split]);
            await PublishTopicAsync();
            Say(said[(split + 1)..]);
            Wake.Set();
            OutboxWake.Set(); // purged pages leave the queue; receipts to cancel go now
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }
}
