using System.Data;
using Dapper;
using Larsbot.Roster;
using Larsbot.Storage;
using static Larsbot.Text.Wording;

namespace Larsbot.Paging;

/// <summary>
/// Ack mode is "I'm on it for 30 minutes", not "resolved". When it ends, a problem that is still there counts down
/// and pages again:
/// <list type="bullet">
/// <item>a keyed urgent alert is still there until its source resolves it;</item>
/// <item>an unkeyed urgent alert is still there when it was seen again (a repeat by host and text) during the ack-mode
/// period that is ending. One not seen again stays quiet.</item>
/// </list>
/// Either re-enters the countdown once per ack mode, with the `ack mode over: ...` line. A repeat that arrives after
/// ack mode is over, of an acked alert that is in no open countdown, re-enters it too (a check that fires less often
/// than ack mode lasts, or that stopped and started again within the dedup window).
/// Silenced hosts stay silent. Rows only: countdown_reopens records which alert went back into which countdown.
/// </summary>
internal sealed class StillFiring(TeamRoster roster, PagingOptions options)
{
    // The open countdown (if any) an alert is in, by its own countdown or by a reopen.
    private const string InOpenCountdown = """
        EXISTS (SELECT 1 FROM countdowns c WHERE c.state IN ('counting','paged','escalated')
                AND (c.id = a.countdown_id OR c.id IN (SELECT countdown_id FROM countdown_reopens r WHERE r.alert_id = a.id)))
        """;

    private const string StillOpenKeyedSql = $"""
        SELECT a.* FROM alerts a
        WHERE a.dedup_key IS NOT NULL AND a.handled_at IS NOT NULL AND a.resolved_at IS NULL AND a.duplicate_of IS NULL
          AND a.level = 'urgent' AND NOT {InOpenCountdown}
        ORDER BY a.id
        """;

    // Seen again during the period: a repeat stored after the period began points at it. The repeats are found by a
    // range scan of the alerts that arrived during the period (@after: the highest id when it began).
    private const string SeenAgainUnkeyedSql = $"""
        SELECT a.* FROM alerts a
        WHERE a.id IN (SELECT r.duplicate_of FROM alerts r WHERE r.id > @after AND r.duplicate_of IS NOT NULL)
          AND a.dedup_key IS NULL AND a.level = 'urgent' AND a.resolved_at IS NULL AND a.duplicate_of IS NULL
          AND a.disposition IN ('countdown', 'joined', 'ack_mode') AND NOT {InOpenCountdown}
        ORDER BY a.id
        """;

    // An original a repeat just arrived for, outside ack mode: acked (or shown in ack mode) and in no open countdown.
    private const string AckedOriginalSql = $"""
        SELECT a.* FROM alerts a
        WHERE a.id = $id AND a.level = 'urgent' AND a.resolved_at IS NULL AND a.duplicate_of IS NULL
          AND a.disposition IN ('countdown', 'joined', 'ack_mode') AND NOT {InOpenCountdown}
        """;

    /// <summary>Ack mode just ended: what is still there re-enters the countdown. False when nothing is.</summary>
    public async Task<bool> ReopenStillFiringAsync(Pass p, long after)
    {
        var (c, tx, now) = (p.C, p.Tx, p.Now);
        var keyed = await c.QueryAsync<AlertRow>(StillOpenKeyedSql, transaction: tx);
        var unkeyed = await c.QueryAsync<AlertRow>(SeenAgainUnkeyedSql, new { after }, tx);
        var still = await NotSilencedAsync(c, tx, now, keyed.Concat(unkeyed).OrderBy(a => a.Id).ToList());
        if (still.Count == 0) return false;
        var (countdownId, joined) = await ReenterAsync(p, still);
        await p.SayAsync($"ack mode over: {still.Count} alert{(still.Count == 1 ? "" : "s")} still open: {still[0].Host}" +
                 (still.Count > 1 ? $" (+{still.Count - 1} more)" : "") +
                 (joined ? $"; joined open page #{countdownId}" : $"; paging again in {Secs(options.Countdown)} secs unless someone says 'lars ack'"));
        return true;
    }

    /// <summary>
    /// Repeats that arrived after ack mode is over, of acked urgent alerts in no open countdown: those alerts re-enter
    /// the countdown (once: from then on they are in an open one, or acked again). <paramref name="originals"/> maps
    /// each handled original to the countdown it is in.
    /// </summary>
    public async Task ReopenRepeatedAsync(Pass p, IReadOnlyDictionary<long, long?> originals)
    {
        if (originals.Count == 0 || PagingStore.AckModeActive(p)) return;
        var (c, tx, now) = (p.C, p.Tx, p.Now);
        // In a storm of repeats nearly every original is in the open countdown: those are known from the pass's
        // fresh-alert query and one look at the open countdowns, without a query per original.
        var open = p.Db.Statement(tx, PagingStore.UnackedCountdownsSql).Rows(static r => r.GetRowParser<CountdownRow>()).Select(o => o.Id).ToHashSet();
        var back = new List<AlertRow>();
        var acked = p.Db.Statement(tx, AckedOriginalSql, "$id");
        foreach (var (id, countdown) in originals.OrderBy(o => o.Key))
        {
            if (countdown is { } cd && open.Contains(cd)) continue;
            if (acked.Rows(static r => r.GetRowParser<AlertRow>(), id) is [var a]) back.Add(a);
        }
        back = await NotSilencedAsync(c, tx, now, back);
        if (back.Count == 0) return;
        var (countdownId, joined) = await ReenterAsync(p, back);
        foreach (var a in back)
            await p.SayAsync($"URGENT {a.Host} - {a.Message} (still firing after the ack: " +
                     (joined ? $"joins open page #{countdownId})" : $"paging again in {Secs(options.Countdown)} secs unless someone says 'lars ack')"));
    }

    /// <summary>Puts alerts back into the open countdown, or a new one. Returns it, and whether it was already open.</summary>
    private async Task<(long CountdownId, bool Joined)> ReenterAsync(Pass p, IReadOnlyList<AlertRow> alerts)
    {
        var (c, tx, now) = (p.C, p.Tx, p.Now);
        var open = PagingStore.NewestOpenCountdown(p, options);
        var countdownId = open?.Id ?? await PagingStore.NewCountdownAsync(c, tx, now, now + options.Countdown,
            (await PagingStore.CurrentDutyAsync(c, tx, roster))?.Id);
        PagingStore.Reopen(p, countdownId, alerts);
        return (countdownId, open is not null);
    }

    /// <summary>A host shushed since the ack stays quiet: `lars shush` is the way to say "still there, leave it".</summary>
    private static async Task<List<AlertRow>> NotSilencedAsync(IDbConnection c, IDbTransaction tx, DateTimeOffset now, List<AlertRow> alerts)
    {
        if (alerts.Count == 0) return alerts;
        var silences = (await SilencesModule.ActiveAsync(c, tx, UnixMs.From(now))).ToList();
        return silences.Count == 0 ? alerts : alerts.Where(a => !silences.Any(s => Wildcard.IsMatch(s.Pattern, a.Host))).ToList();
    }
}
