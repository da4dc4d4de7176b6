using System.Data;
using Dapper;
using Larsbot.Duty;
using Larsbot.Outbox;
using Larsbot.Roster;
using Larsbot.Storage;

namespace Larsbot.Paging;

/// <summary>
/// The queries over Paging's own tables (alerts as the engine sees them, countdowns, ack_modes, countdown_reopens) that
/// more than one module needs. Each module keeps the SQL only it uses beside its code.
/// </summary>
internal static class PagingStore
{
    public const string OpenCountdownsSql = "SELECT * FROM countdowns WHERE state IN ('counting','paged') ORDER BY id";

    /// <summary>
    /// The countdown new urgent alerts join: the newest one still counting or paged, or one that paged everybody within
    /// the last EscalateAfter ($since) and is not acked. Without that last part, a storm with nobody on duty paged
    /// everybody again for every countdown that followed: every 30 s, and with IRC unreachable (no countdown) on every
    /// pass. A storm is one thing: everybody hears of it once, and `lars ack` stops it whole.
    /// </summary>
    public const string NewestOpenCountdownSql =
        "SELECT * FROM countdowns WHERE state IN ('counting','paged') OR (state = 'escalated' AND escalated_at >= $since) ORDER BY id DESC LIMIT 1";

    /// <summary>Every countdown not yet acked or resolved, escalated ones included (what an ack closes).</summary>
    public const string UnackedCountdownsSql = "SELECT * FROM countdowns WHERE state IN ('counting','paged','escalated') ORDER BY id";

    /// <summary>The countdown new urgent alerts join now (see <see cref="NewestOpenCountdownSql"/>), or null.</summary>
    public static CountdownRow? NewestOpenCountdown(Pass p, PagingOptions options) =>
        p.Db.Statement(p.Tx, NewestOpenCountdownSql, "$since")
            .Rows(static r => r.GetRowParser<CountdownRow>(), p.NowMs - (long)options.EscalateAfter.TotalMilliseconds).SingleOrDefault();

    public const string AckModeActiveSql = "SELECT COUNT(*) FROM ack_modes WHERE ended_at IS NULL";

    public static bool AckModeActive(Pass p) => p.Db.Statement(p.Tx, AckModeActiveSql).Long() > 0;

    public static Task<long> NewCountdownAsync(IDbConnection c, IDbTransaction tx, DateTimeOffset now, DateTimeOffset pageAt, string? dutyPerson) =>
        c.ExecuteScalarAsync<long>(
            "INSERT INTO countdowns(started_at, page_at, state, duty_person) VALUES (@s, @p, 'counting', @d) RETURNING id",
            new { s = UnixMs.From(now), p = UnixMs.From(pageAt), d = dutyPerson }, tx);

    public static async Task<Person?> CurrentDutyAsync(IDbConnection c, IDbTransaction? tx, TeamRoster roster) =>
        roster.FindById((await DutyStore.CurrentAsync(c, tx))?.PersonId);

    /// <summary>Who the first page goes to: the person on duty, or everybody when nobody is.</summary>
    public static async Task<(IReadOnlyList<Person> Targets, bool Everybody)> FirstPageTargetsAsync(IDbConnection c, IDbTransaction tx, TeamRoster roster) =>
        await CurrentDutyAsync(c, tx, roster) is { } duty ? ([duty], false) : (roster.People, true);

    public static string Targets(IReadOnlyList<Person> targets, bool everybody) =>
        everybody ? $"everybody ({string.Join(", ", targets.Select(p => p.Label))})" : targets[0].Label;

    internal sealed class CountdownSummary
    {
        public long AlertCount { get; set; }
        public long HostCount { get; set; }
        public string? FirstHost { get; set; }
        public string? FirstMessage { get; set; }
    }

    /// <summary>
    /// The page's text from the countdown's own counts (migration 014): a storm's countdown may hold hundreds of
    /// thousands of alerts, and this runs on every tick while the engine holds the writer. The first alert names it,
    /// the rest are counted.
    /// </summary>
    public static async Task<(int Count, string Summary)> SummaryOfAsync(IDbConnection c, IDbTransaction? tx, long countdownId)
    {
        const string sql =
            "SELECT c.alert_count, c.host_count, a.host AS first_host, a.message AS first_message " +
            "FROM countdowns c LEFT JOIN alerts a ON a.id = c.first_alert_id WHERE c.id = @countdownId";
        var s = await c.QuerySingleAsync<CountdownSummary>(sql, new { countdownId }, tx);
        return ((int)s.AlertCount, SummaryText(s.AlertCount, s.HostCount, s.FirstHost, s.FirstMessage));
    }

    // The hosts of the alerts a pass just joined to a countdown (ids $from..$to). `+countdown_id` keeps SQLite on the
    // id range: through alerts_countdown it would walk every alert of the countdown.
    internal const string JoinedHostsSql =
        "INSERT INTO countdown_hosts(countdown_id, host) SELECT DISTINCT countdown_id, host FROM alerts " +
        "WHERE id >= $from AND id <= $to AND +countdown_id = $id ON CONFLICT DO NOTHING";

    private const string HostSql = "INSERT INTO countdown_hosts(countdown_id, host) VALUES ($id, $host) ON CONFLICT DO NOTHING";

    private const string CountSql =
        "UPDATE countdowns SET alert_count = alert_count + $n, unresolved_count = unresolved_count + $n, host_count = host_count + $hosts, " +
        "first_alert_id = CASE WHEN first_alert_id IS NULL OR first_alert_id > $first THEN $first ELSE first_alert_id END WHERE id = $id";

    /// <summary>
    /// Counts <paramref name="n"/> alerts this pass joined to a countdown (countdown_id set, ids
    /// <paramref name="from"/>..<paramref name="to"/>) into its counts.
    /// </summary>
    public static void CountJoined(Pass p, long countdownId, long from, long to, int n)
    {
        var hosts = p.Db.Statement(p.Tx, JoinedHostsSql, "$from", "$to", "$id").Run(from, to, countdownId);
        p.Db.Statement(p.Tx, CountSql, "$n", "$hosts", "$first", "$id").Run(n, hosts, from, countdownId);
    }

    /// <summary>An alert the announce has decided on: how it was handled, and the countdown it is in (if any).</summary>
    public readonly record struct Handled(long Id, string Disposition, long? CountdownId);

    private const string MarkOneSql =
        "UPDATE alerts SET handled_at = $now, disposition = $disposition, countdown_id = $countdownId WHERE id = $id";
    internal const string UnhandledInSql = "SELECT COUNT(*) FROM alerts WHERE id >= $from AND id <= $to AND handled_at IS NULL";
    internal const string MarkRangeSql =
        "UPDATE alerts SET handled_at = $now, disposition = $disposition, countdown_id = $countdownId " +
        "WHERE id >= $from AND id <= $to AND handled_at IS NULL";

    /// <summary>
    /// Marks the alerts handled, in order. A run of three or more that share a disposition and countdown is one
    /// UPDATE over their id range, when the range holds no other unhandled alert (counted in this same write, which
    /// no other write overlaps: alerts handled earlier in the pass, a repeat or a silenced one, are skipped by the
    /// range, and an alert not in the run falls back to one UPDATE each). A storm's pass marks hundreds of alerts while
    /// intake waits for the writer; one statement each was the announce's largest cost.
    /// </summary>
    public static void MarkHandled(Pass p, IReadOnlyList<Handled> alerts)
    {
        System.Data.Common.DbCommand? one = null;
        for (var i = 0; i < alerts.Count;)
        {
            var (first, j) = (alerts[i], i + 1);
            while (j < alerts.Count && alerts[j].Disposition == first.Disposition && alerts[j].CountdownId == first.CountdownId
                   && alerts[j].Id > alerts[j - 1].Id) j++;
            var run = j - i;
            var last = alerts[j - 1];
            if (run >= 3 && p.Db.Statement(p.Tx, UnhandledInSql, "$from", "$to").Long(first.Id, last.Id) == run)
                p.Db.Statement(p.Tx, MarkRangeSql, "$now", "$disposition", "$countdownId", "$from", "$to")
                    .Run(p.NowMs, first.Disposition, first.CountdownId, first.Id, last.Id);
            else
                for (var k = i; k < j; k++)
                    (one ??= p.Db.Statement(p.Tx, MarkOneSql, "$now", "$disposition", "$countdownId", "$id"))
                        .Run(p.NowMs, alerts[k].Disposition, alerts[k].CountdownId, alerts[k].Id);
            i = j;
        }
    }

    /// <summary>Puts alerts into a countdown by countdown_reopens (alerts of an earlier one, still firing), counted.</summary>
    public static void Reopen(Pass p, long countdownId, IReadOnlyList<AlertRow> alerts)
    {
        var reopen = p.Db.Statement(p.Tx, "INSERT INTO countdown_reopens(countdown_id, alert_id) VALUES ($id, $alert) ON CONFLICT DO NOTHING", "$id", "$alert");
        var host = p.Db.Statement(p.Tx, HostSql, "$id", "$host");
        int n = 0, hosts = 0;
        long? first = null;
        foreach (var a in alerts)
        {
            if (reopen.Run(countdownId, a.Id) == 0) continue;
            n++;
            first = Math.Min(first ?? a.Id, a.Id);
            hosts += host.Run(countdownId, a.Host);
        }
        if (n > 0) p.Db.Statement(p.Tx, CountSql, "$n", "$hosts", "$first", "$id").Run(n, hosts, first, countdownId);
    }

    /// <summary>An alert of these countdowns was resolved: one fewer unresolved in each.</summary>
    public const string ResolvedOneSql = "UPDATE countdowns SET unresolved_count = unresolved_count - 1 WHERE id = $id";

    /// <summary>"gateway2: rblcheck: listed (+2 more)", or "(+9999 more from 500 hosts)" when more than one host.</summary>
    public static string SummaryText(long alerts, long hosts, string? firstHost, string? firstMessage)
    {
        if (alerts == 0) return "(no alerts)";
        var text = $"{firstHost}: {firstMessage}";
        if (alerts == 1) return text;
        return text + (hosts > 1 ? $" (+{alerts - 1} more from {hosts} hosts)" : $" (+{alerts - 1} more)");
    }

    /// <summary>"gateway2: rblcheck: listed (+2 more)": the first alert names the page, the rest are counted.</summary>
    public static string Summary(IReadOnlyList<AlertRow> alerts) =>
        alerts.Count == 0 ? "(no alerts)" : SummaryText(alerts.Count, alerts.Select(a => a.Host).Distinct().Count(), alerts[0].Host, alerts[0].Message);

    /// <summary>The pages of one stage of a countdown, one row per person and way of reaching them.</summary>
    public static async Task WritePagesAsync(IDbConnection c, IDbTransaction tx, long countdownId, string stage,
        IEnumerable<Person> people, string summary, DateTimeOffset now)
    {
        var title = stage == "first" ? "Larsbot: URGENT" : "Larsbot: URGENT, nobody acked";
        foreach (var p in people)
        {
            if (p.Phone is not null) await OutboxStore.PageAsync(c, tx, now, countdownId, stage, p.Id, "sms", p.Phone, title, summary);
            if (p.Pushover is not null) await OutboxStore.PageAsync(c, tx, now, countdownId, stage, p.Id, "push", p.Pushover, title, summary);
            // The last resort rings too: a call wakes people a silenced phone's SMS would not.
            if (stage == "everyone" && p.Call && p.Phone is not null)
                await OutboxStore.PageAsync(c, tx, now, countdownId, stage, p.Id, "call", p.Phone, title, summary);
        }
    }
}
