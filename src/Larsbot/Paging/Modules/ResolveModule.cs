using System.Data;
using Dapper;
using Larsbot.Outbox;
using Larsbot.Roster;
using Larsbot.Storage;

namespace Larsbot.Paging;

/// <summary>
/// Resolves and tool acks (alert_events), applied after the fresh alerts are announced: to the open alerts they name,
/// by key or by host and text. A countdown whose every alert is resolved stops.
/// </summary>
internal sealed class ResolveModule(TeamRoster roster, PagingOptions options, OpenKeys? openKeys = null) : IEngineModule
{
    private const string OpenOriginal = "resolved_at IS NULL AND duplicate_of IS NULL";

    // The dedup indexes hold handled alerts only (migration 007), so every lookup names handled_at IS NOT NULL.
    private const string HandledOpenOriginal = "handled_at IS NOT NULL AND " + OpenOriginal;

    // Two queries, not one with OR: SQLite uses a partial index only when the query itself implies its WHERE.
    internal const string ResolveByKeySql =
        $"SELECT * FROM alerts WHERE dedup_key = @key AND {HandledOpenOriginal} AND (@host IS NULL OR host = @host) ORDER BY id";
    internal const string ResolveByTextSql =
        $"SELECT * FROM alerts WHERE dedup_key IS NULL AND level <> 'info' AND host = @host AND message = @message AND {HandledOpenOriginal} ORDER BY id";

    // SQLite: the candidates OpenKeys names, each read to see it is still an open original of that key.
    internal const string ResolveByKeyCandidateSql =
        $"SELECT * FROM alerts WHERE id = @id AND dedup_key = @key AND {HandledOpenOriginal} AND (@host IS NULL OR host = @host)";

    internal const string UnhandledAlertSql = "SELECT MIN(id) FROM alerts WHERE id > $after AND handled_at IS NULL";

    /// <summary>Resolves and tool acks: applied to the open alerts they name (by key, or by host and text).</summary>
    public async Task UpdateAsync(Pass p)
    {
        var (c, tx, now) = (p.C, p.Tx, p.Now);
        // A resolve names alerts that came before it: wait until they are handled (and so found by key), which in a storm
        // of more than a pass can take is the next pass, a few milliseconds later.
        if (p.Behind || p.Db.Statement(tx, UnhandledAlertSql, "$after").Long(p.HandledUpTo) is not null)
        {
            p.WakeAt(p.NowMs);
            return;
        }
        var events = p.Db.Statement(tx, "SELECT * FROM alert_events WHERE handled_at IS NULL ORDER BY id LIMIT 1000").Rows(static r => r.GetRowParser<AlertEventRow>());
        var nowMs = UnixMs.From(now);
        foreach (var e in events)
        {
            var targets = e.DedupKey is { } key && openKeys?.Candidates(key) is { } candidates
                ? await OpenOriginalsAsync(c, tx, key, e.Host, candidates)
                : (await c.QueryAsync<AlertRow>(
                    e.DedupKey is not null ? ResolveByKeySql : ResolveByTextSql,
                    new { key = e.DedupKey, host = e.Host, message = e.Message }, tx)).ToList();
            if (e.Kind == "resolve")
            {
                var resolvedOne = p.Db.Statement(tx, PagingStore.ResolvedOneSql, "$id");
                var countdowns = new SortedSet<long>();
                foreach (var a in targets)
                {
                    await c.ExecuteAsync("UPDATE alerts SET resolved_at = @now WHERE id = @id", new { now = nowMs, id = a.Id }, tx);
                    if (openKeys is not null && a.DedupKey is { } resolvedKey) p.Db.AfterCommit(tx, () => openKeys.Remove(resolvedKey, a.Id));
                    // The countdowns it is in: its own, and any it was reopened into.
                    var memberOf = (await c.QueryAsync<long>("SELECT countdown_id FROM countdown_reopens WHERE alert_id = @id", new { id = a.Id }, tx)).ToHashSet();
                    if (a.CountdownId is { } own) memberOf.Add(own);
                    foreach (var cd in memberOf)
                    {
                        resolvedOne.Run(cd);
                        countdowns.Add(cd);
                    }
                    await p.SayAsync($"RESOLVED {a.Host} - {a.Message}" + (a.Repeats > 0 ? $" (seen {a.Repeats + 1} times)" : ""));
                }
                foreach (var cdId in countdowns)
                    await CloseIfAllResolvedAsync(p, cdId);
            }
            else
            {
                // A tool's acknowledge names no person, so it cannot stand in for `lars ack` (which the ledger counts):
                // it is recorded and shown, and the page goes on until a person acks.
                foreach (var a in targets)
                    await p.SayAsync($"acknowledged by {e.Source}: {a.Host} - {a.Message} (pages continue until someone says 'lars ack')");
            }
            await c.ExecuteAsync("UPDATE alert_events SET handled_at = @now, matched = @n WHERE id = @id",
                new { now = nowMs, n = targets.Count, id = e.Id }, tx);
        }
        if (events.Count >= 1000) p.WakeAt(nowMs);
    }

    private static async Task<List<AlertRow>> OpenOriginalsAsync(IDbConnection c, IDbTransaction tx, string key, string? host, long[] candidates)
    {
        var found = new List<AlertRow>(candidates.Length);
        foreach (var id in candidates)
            if (await c.QuerySingleOrDefaultAsync<AlertRow>(ResolveByKeyCandidateSql, new { id, key, host }, tx) is { } a) found.Add(a);
        return [.. found.OrderBy(a => a.Id)];
    }

    /// <summary>A countdown whose every alert is resolved stops: nothing is paged for it any more.</summary>
    private async Task CloseIfAllResolvedAsync(Pass p, long countdownId)
    {
        var (c, tx, nowMs) = (p.C, p.Tx, p.NowMs);
        // Counted on the countdown as its alerts come and are resolved (migration 014), not read: a storm's is huge.
        var open = await c.ExecuteScalarAsync<long?>(
            "SELECT unresolved_count FROM countdowns WHERE id = @countdownId AND state IN ('counting','paged','escalated')", new { countdownId }, tx);
        if (open is not 0) return;
        await c.ExecuteAsync("UPDATE countdowns SET state = 'acked', resolved_at = @now WHERE id = @id", new { now = nowMs, id = countdownId }, tx);
        var purged = await OutboxStore.CancelCountdownAsync(c, tx, countdownId, p.Now);
        await FollowUps.WriteAsync(c, tx, countdownId, ackedBy: null, p.Now, options, roster);
        await p.SayAsync($"resolved: page #{countdownId} stopped, everything in it is resolved" + (purged > 0 ? $" ({purged} unsent page(s) purged)" : ""));
    }
}
