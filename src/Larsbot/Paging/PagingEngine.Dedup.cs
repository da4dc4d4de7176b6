using System.Data;
using Dapper;
using Larsbot.Storage;
using Microsoft.Data.Sqlite;

namespace Larsbot.Paging;

/// <summary>
/// Dedup, resolve and stale acks. Kept beside the engine's announcement path rather than inside it: repeats are
/// taken out of the fresh alerts before they are announced, and resolves are applied after, so the path that decides
/// what a new alert means is unchanged.
/// </summary>
public sealed partial class PagingEngine
{
    private const string OpenOriginal = "resolved_at IS NULL AND duplicate_of IS NULL";

    // The dedup indexes hold handled alerts only (migration 007), so every lookup names handled_at IS NOT NULL.
    private const string HandledOpenOriginal = "handled_at IS NOT NULL AND " + OpenOriginal;

    /// <summary>
    /// The alerts a pass handles, each with the handled open alert it repeats (same key; or same host and text seen
    /// within the window), looked up by SQLite in the same statement: one statement a pass, not one per alert.
    /// </summary>
    internal static readonly string FreshAlertsSql =
        $"""
        SELECT f.*, CASE WHEN f.dedup_key IS NOT NULL
          THEN (SELECT o.id FROM alerts o WHERE o.dedup_key = f.dedup_key AND {HandledOpenOriginalOf("o")} AND o.id < f.id
                  AND {LoudnessOf("o")} >= {LoudnessOf("f")} ORDER BY o.id DESC LIMIT 1)
          WHEN f.level <> 'info'
          THEN (SELECT o.id FROM alerts o WHERE o.dedup_key IS NULL AND o.level <> 'info' AND o.host = f.host AND o.message = f.message AND {HandledOpenOriginalOf("o")}
                  AND o.id < f.id AND COALESCE(o.last_seen_at, o.received_at) >= f.received_at - $window
                  AND {LoudnessOf("o")} >= {LoudnessOf("f")} ORDER BY o.id DESC LIMIT 1)
          END AS handled_original
        FROM alerts f WHERE f.handled_at IS NULL ORDER BY f.id LIMIT {MaxAlertsPerPass}
        """;
    // A repeat is only of an alert at least as loud: "disk at 97%" sent urgent with the key that "disk at 85%" was
    // sent irc with must page, not count up on the irc one.
    private static string LoudnessOf(string alias) => $"(CASE {alias}.level WHEN 'urgent' THEN 2 WHEN 'irc' THEN 1 ELSE 0 END)";

    private static int Loudness(string level) => level switch { "urgent" => 2, "irc" => 1, _ => 0 };

    private static string HandledOpenOriginalOf(string alias) =>
        $"{alias}.handled_at IS NOT NULL AND {alias}.resolved_at IS NULL AND {alias}.duplicate_of IS NULL";

    // Two queries, not one with OR: SQLite uses a partial index only when the query itself implies its WHERE.
    internal const string ResolveByKeySql =
        $"SELECT * FROM alerts WHERE dedup_key = @key AND {HandledOpenOriginal} AND (@host IS NULL OR host = @host) ORDER BY id";
    internal const string ResolveByTextSql =
        $"SELECT * FROM alerts WHERE dedup_key IS NULL AND level <> 'info' AND host = @host AND message = @message AND {HandledOpenOriginal} ORDER BY id";

    /// <summary>A repeat of an open alert is handled as 'repeat': the original counts up, nothing is said or paged.</summary>
    /// <returns>The fresh alerts that are not repeats.</returns>
    private async Task<List<AlertRow>> HandleRepeatsAsync(IDbConnection c, IDbTransaction tx, DateTimeOffset now, List<string> said, List<AlertRow> fresh)
    {
        var urgentRepeated = new HashSet<long>();
        var rest = new List<AlertRow>(fresh.Count);
        var nowMs = UnixMs.From(now);
        var windowMs = (long)_options.DedupWindow.TotalMilliseconds;
        var markRepeat = _db.Statement(tx, "UPDATE alerts SET handled_at = $now, disposition = 'repeat', duplicate_of = $original WHERE id = $id", "$now", "$original", "$id");
        var countUp = _db.Statement(tx, "UPDATE alerts SET repeats = repeats + 1, last_seen_at = MAX(COALESCE(last_seen_at, 0), $at) WHERE id = $original", "$at", "$original");
        // HandledOriginal was looked up before this pass changed anything. Originals earlier in this same batch are
        // not handled (so not indexed) yet, and an original's last sighting moves as its repeats are counted here:
        // both are tracked in memory, and being newer they take precedence unless they are quieter than the alert
        // at hand. An original found through HandledOriginal is kept with the loudness of the alert that found it,
        // a lower bound: a louder alert later in the batch then asks its own HandledOriginal.
        var byKey = new Dictionary<string, (long Id, int Loudness)>(StringComparer.Ordinal);
        var byText = new Dictionary<(string Host, string Message), (long Id, long LastSeen, int Loudness)>();
        foreach (var a in fresh)
        {
            long? original;
            var loud = Loudness(a.Level);
            if (a.DedupKey is not null)
            {
                var seen = byKey.TryGetValue(a.DedupKey, out var k);
                original = seen && k.Loudness >= loud ? k.Id : a.HandledOriginal;
                byKey[a.DedupKey] = original is { } o ? (o, seen && k.Id == o ? Math.Max(k.Loudness, loud) : loud) : (a.Id, loud);
            }
            else if (a.Level == "info")
            {
                // Unkeyed info alerts are recorded, not deduplicated (see AlertBatcher): only one stored before that
                // change and not yet handled comes here.
                original = null;
            }
            else
            {
                var since = a.ReceivedAt - windowMs;
                var seen = byText.TryGetValue((a.Host, a.Message), out var t);
                original = !seen ? a.HandledOriginal : t.LastSeen < since ? null : t.Loudness >= loud ? t.Id : a.HandledOriginal;
                byText[(a.Host, a.Message)] = original is { } o
                    ? (o, Math.Max(seen && t.Id == o ? t.LastSeen : 0, a.ReceivedAt), seen && t.Id == o ? Math.Max(t.Loudness, loud) : loud)
                    : (a.Id, a.ReceivedAt, loud);
            }
            if (original is null)
            {
                rest.Add(a);
                continue;
            }
            markRepeat.Run(nowMs, original.Value, a.Id);
            countUp.Run(a.ReceivedAt, original.Value);
            if (a.Level == "urgent") urgentRepeated.Add(original.Value);
        }
        await ReopenRepeatedAsync(c, tx, now, said, urgentRepeated);
        return rest;
    }

    /// <summary>Resolves and tool acks: applied to the open alerts they name (by key, or by host and text).</summary>
    private async Task HandleAlertEventsAsync(IDbConnection c, IDbTransaction tx, DateTimeOffset now, List<string> said)
    {
        // A resolve names alerts that came before it: wait until they are handled (and so indexed), which in a storm
        // of more than a pass can take is the next pass, a few milliseconds later.
        if (_db.Statement(tx, UnhandledAlertSql).Long() is not null) return;
        var events = _db.Statement(tx, "SELECT * FROM alert_events WHERE handled_at IS NULL ORDER BY id LIMIT 1000").Rows<AlertEventRow>();
        var nowMs = UnixMs.From(now);
        foreach (var e in events)
        {
            var targets = (await c.QueryAsync<AlertRow>(
                e.DedupKey is not null ? ResolveByKeySql : ResolveByTextSql,
                new { key = e.DedupKey, host = e.Host, message = e.Message }, tx)).ToList();
            if (e.Kind == "resolve")
            {
                var countdowns = new SortedSet<long>();
                foreach (var a in targets)
                {
                    await c.ExecuteAsync("UPDATE alerts SET resolved_at = @now WHERE id = @id", new { now = nowMs, id = a.Id }, tx);
                    if (a.CountdownId is { } cd) countdowns.Add(cd);
                    foreach (var r in await c.QueryAsync<long>("SELECT countdown_id FROM countdown_reopens WHERE alert_id = @id", new { id = a.Id }, tx))
                        countdowns.Add(r);
                    said.Add($"RESOLVED {a.Host} - {a.Message}" + (a.Repeats > 0 ? $" (seen {a.Repeats + 1} times)" : ""));
                }
                foreach (var cdId in countdowns)
                    await CloseIfAllResolvedAsync(c, tx, cdId, nowMs, said);
            }
            else
            {
                // A tool's acknowledge names no person, so it cannot stand in for `lars ack` (which the ledger counts):
                // it is recorded and shown, and the page goes on until a person acks.
                foreach (var a in targets)
                    said.Add($"acknowledged by {e.Source}: {a.Host} - {a.Message} (pages continue until someone says 'lars ack')");
            }
            await c.ExecuteAsync("UPDATE alert_events SET handled_at = @now, matched = @n WHERE id = @id",
                new { now = nowMs, n = targets.Count, id = e.Id }, tx);
        }
    }

    /// <summary>A countdown whose every alert is resolved stops: nothing is paged for it any more.</summary>
    private async Task CloseIfAllResolvedAsync(IDbConnection c, IDbTransaction tx, long countdownId, long nowMs, List<string> said)
    {
        var cd = await c.QuerySingleOrDefaultAsync<CountdownRow>(
            "SELECT * FROM countdowns WHERE id = @countdownId AND state IN ('counting','paged','escalated')", new { countdownId }, tx);
        if (cd is null) return;
        var alerts = await AlertsOfAsync(c, tx, countdownId);
        if (alerts.Any(a => a.ResolvedAt is null)) return;
        await c.ExecuteAsync("UPDATE countdowns SET state = 'acked', resolved_at = @now WHERE id = @id", new { now = nowMs, id = countdownId }, tx);
        var purged = await c.ExecuteAsync("UPDATE pages SET state = 'purged' WHERE countdown_id = @id AND state = 'due'", new { id = countdownId }, tx);
        await c.ExecuteAsync(ReceiptCancels.QueueForCountdownSql, new { countdownId, now = nowMs }, tx);
        await WriteFollowUpsAsync(c, tx, countdownId, ackedBy: null, UnixMs.To(nowMs));
        _outboxNudge = true; // receipts to cancel and follow-ups to send
        said.Add($"resolved: page #{countdownId} stopped, everything in it is resolved" + (purged > 0 ? $" ({purged} unsent page(s) purged)" : ""));
    }
}
