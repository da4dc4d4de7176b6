using System.Data;
using Dapper;
using Larsbot.Storage;


namespace Larsbot.Paging;

/// <summary>
/// Dedup: a repeat of an open alert (same key; or same host and text within the dedup window) is handled as 'repeat'
/// and taken out of the fresh alerts before they are announced; the original counts up, nothing is said or paged,
/// unless it was acked and is still firing (<see cref="StillFiring"/>).
/// </summary>
internal sealed class RepeatsModule(StillFiring stillFiring, PagingOptions options, OpenKeys? openKeys = null) : IEngineModule
{
    /// <summary>
    /// The alerts a pass handles, each with the handled open alert it repeats (same key; or same host and text seen
    /// within the window) and that original's countdown, looked up by the database in the same statement: one
    /// statement a pass, not one per alert. Only ids in ($after, $through]: above the <see cref="HandledMark"/>, within
    /// its window (on PostgreSQL all of them, from the index of unhandled alerts).
    /// </summary>
    internal static readonly string FreshAlertsSql = Fresh(
        $"""
        (SELECT o.id FROM alerts o WHERE o.dedup_key = f.dedup_key AND {HandledOpenOriginalOf("o")} AND o.id < f.id
                  AND {LoudnessOf("o")} >= {LoudnessOf("f")} ORDER BY o.id DESC LIMIT 1)
        """);

    /// <summary>
    /// SQLite's: the original by key comes from <see cref="OpenKeys"/> (no index on dedup_key there), so only an
    /// unkeyed alert's original by text is looked up here, joined straight from the slice of the table (in id order, no
    /// sort, no subquery's rows to copy). Only the columns the modules read: the others (handled_at, disposition,
    /// countdown_id, duplicate_of, repeats, resolved_at) are written only when an alert is handled, so an unhandled
    /// one's are NULL or 0, which is what <see cref="AlertRow"/> holds without them. Half the pass's read time.
    /// </summary>
    internal static readonly string FreshAlertsSqliteSql =
        $"""
        SELECT f.id, f.received_at, f.source, f.host, f.level, f.message, f.dedup_key,
               o.id AS handled_original, o.countdown_id AS handled_original_countdown
        FROM alerts f LEFT JOIN alerts o ON o.id = (CASE WHEN f.dedup_key IS NULL AND f.level <> 'info' THEN {ByText} END)
        WHERE f.id > $after AND f.id <= $through AND f.handled_at IS NULL ORDER BY f.id LIMIT {PagingEngine.MaxAlertsPerPass}
        """;

    // An unkeyed alert's handled open original: same host and text, seen within the window, at least as loud.
    private static string ByText =>
        $"""
        (SELECT o.id FROM alerts o WHERE o.dedup_key IS NULL AND o.level <> 'info' AND o.host = f.host AND o.message = f.message AND {HandledOpenOriginalOf("o")}
                  AND o.id < f.id AND COALESCE(o.last_seen_at, o.received_at) >= f.received_at - $window
                  AND {LoudnessOf("o")} >= {LoudnessOf("f")} ORDER BY o.id DESC LIMIT 1)
        """;

    private static string Fresh(string byKey) =>
        $"""
        SELECT f.*, o.countdown_id AS handled_original_countdown FROM (
        SELECT f.*, CASE WHEN f.dedup_key IS NOT NULL
          THEN {byKey}
          WHEN f.level <> 'info'
          THEN {ByText}
          END AS handled_original
        FROM alerts f WHERE f.id > $after AND f.id <= $through AND f.handled_at IS NULL ORDER BY f.id LIMIT {PagingEngine.MaxAlertsPerPass}
        ) f LEFT JOIN alerts o ON o.id = f.handled_original ORDER BY f.id
        """;

    // A candidate from OpenKeys, read in the pass's own write: still an open original of this key? Its countdown, or 0.
    private const string OpenOriginalSql =
        "SELECT COALESCE(countdown_id, 0) FROM alerts WHERE id = $id AND dedup_key = $key AND handled_at IS NOT NULL AND resolved_at IS NULL AND duplicate_of IS NULL";

    /// <summary>SQLite: each keyed fresh alert's handled original, the newest open one at least as loud (as the SQL does on PostgreSQL).</summary>
    private void FindByKey(Pass p)
    {
        if (openKeys is null) return;
        var check = p.Db.Statement(p.Tx, OpenOriginalSql, "$id", "$key");
        foreach (var a in p.Fresh)
        {
            if (a.DedupKey is not { } key) continue;
            foreach (var id in openKeys.Candidates(key, Loudness(a.Level)) ?? throw new InvalidOperationException("OpenKeys is not loaded"))
            {
                if (id >= a.Id || check.Long(id, key) is not { } countdown) continue;
                (a.HandledOriginal, a.HandledOriginalCountdown) = (id, countdown == 0 ? null : countdown);
                break;
            }
        }
    }
    // A repeat is only of an alert at least as loud: "disk at 97%" sent urgent with the key that "disk at 85%" was
    // sent irc with must page, not count up on the irc one.
    private static string LoudnessOf(string alias) => $"(CASE {alias}.level WHEN 'urgent' THEN 2 WHEN 'irc' THEN 1 ELSE 0 END)";

    private static int Loudness(string level) => OpenKeys.Loudness(level);

    private static string HandledOpenOriginalOf(string alias) =>
        $"{alias}.handled_at IS NOT NULL AND {alias}.resolved_at IS NULL AND {alias}.duplicate_of IS NULL";

    /// <summary>Leaves in <see cref="Pass.Fresh"/> the alerts that are not repeats.</summary>
    public async Task UpdateAsync(Pass p)
    {
        var (tx, now, fresh) = (p.Tx, p.Now, p.Fresh);
        if (fresh.Count == 0) return;
        FindByKey(p);
        // Urgent alerts repeated in this pass: each handled original, with the countdown it is in (if any).
        var urgentRepeated = new Dictionary<long, long?>();
        var handledOriginals = new Dictionary<long, long?>();
        var rest = new List<AlertRow>(fresh.Count);
        var nowMs = UnixMs.From(now);
        var windowMs = (long)options.DedupWindow.TotalMilliseconds;
        var markRepeat = p.Db.Statement(tx, "UPDATE alerts SET handled_at = $now, disposition = 'repeat', duplicate_of = $original WHERE id = $id", "$now", "$original", "$id");
        var countUp = p.Db.Statement(tx, "UPDATE alerts SET repeats = repeats + 1, last_seen_at = CASE WHEN COALESCE(last_seen_at, 0) > $at THEN last_seen_at ELSE $at END WHERE id = $original", "$at", "$original");
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
            if (a.HandledOriginal is { } handled) handledOriginals[handled] = a.HandledOriginalCountdown;
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
                // Handled in this pass as an original (silenced or announced, by the modules after this one).
                if (a.DedupKey is not null) openKeys?.Add(a.DedupKey, a.Id, a.Level);
                rest.Add(a);
                continue;
            }
            markRepeat.Run(nowMs, original.Value, a.Id);
            countUp.Run(a.ReceivedAt, original.Value);
            // An original from earlier in this batch is not handled yet, so it cannot have been acked: nothing to reopen.
            if (a.Level == "urgent" && handledOriginals.TryGetValue(original.Value, out var countdown)) urgentRepeated[original.Value] = countdown;
        }
        p.Fresh = rest;
        await stillFiring.ReopenRepeatedAsync(p, urgentRepeated);
    }
}
