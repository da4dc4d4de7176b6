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
        public long Alerts { get; set; }
        public long Hosts { get; set; }
        public string? FirstHost { get; set; }
        public string? FirstMessage { get; set; }
    }

    // A countdown's alerts: its own, plus those a stale ack reopened into it.
    private const string Members =
        "(countdown_id = @countdownId OR id IN (SELECT alert_id FROM countdown_reopens WHERE countdown_id = @countdownId))";

    /// <summary>
    /// The page's text from one aggregate query (a storm's countdown may hold thousands of alerts, and this runs on
    /// every tick): the first alert names it, the rest are counted.
    /// </summary>
    public static async Task<(int Count, string Summary)> SummaryOfAsync(IDbConnection c, IDbTransaction? tx, long countdownId)
    {
        const string sql =
            "SELECT COUNT(*) AS alerts, COUNT(DISTINCT host) AS hosts, " +
            "(SELECT host FROM alerts WHERE " + Members + " ORDER BY id LIMIT 1) AS first_host, " +
            "(SELECT message FROM alerts WHERE " + Members + " ORDER BY id LIMIT 1) AS first_message " +
            "FROM alerts WHERE " + Members;
        var s = await c.QuerySingleAsync<CountdownSummary>(sql, new { countdownId }, tx);
        return ((int)s.Alerts, SummaryText(s.Alerts, s.Hosts, s.FirstHost, s.FirstMessage));
    }

    public static async Task<List<AlertRow>> AlertsOfAsync(IDbConnection c, IDbTransaction? tx, long countdownId) =>
        (await c.QueryAsync<AlertRow>($"SELECT * FROM alerts WHERE {Members} ORDER BY id", new { countdownId }, tx)).ToList();

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
