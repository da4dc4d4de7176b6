using System.Data;
using System.Globalization;
using Dapper;
using Larsbot.Duty;
using Larsbot.Roster;
using Larsbot.Storage;

namespace Larsbot.Ledger;

/// <summary>A ledger row as stored (amount parsed back to decimal).</summary>
internal sealed record PostedLine(string PayMonth, DateOnly Day, string PersonId, string Kind, long? CountdownId, decimal Amount, long DutyMs, int Pages);

/// <summary>A difference between what the ledger holds and what the rules give for the same fact.</summary>
internal sealed record LedgerDifference(DateOnly Day, string PersonId, string Kind, long? CountdownId, decimal Posted, decimal Expected, long PostedMs, long ExpectedMs)
{
    public override string ToString() =>
        $"{Day:yyyy-MM-dd} {PersonId} {Kind}{(CountdownId is { } c ? $" page #{c}" : "")}: ledger {Posted.ToString("0.00", CultureInfo.InvariantCulture)}" +
        $" ({PostedMs} ms), rules give {Expected.ToString("0.00", CultureInfo.InvariantCulture)} ({ExpectedMs} ms)";
}

/// <summary>
/// Writes the ledger from the duty, page and ack rows, and checks it against them. Settling appends, for every day
/// that has ended, the difference between what the rules give now and what the ledger already holds: the first
/// settle of a day writes its lines, a later report (held bonus -> paid) or a fixed fact writes a correction, and
/// settling twice writes nothing.
/// </summary>
internal sealed class LedgerStore(Database db, TeamRoster roster)
{
    // A page is a countdown with at least one SMS/push a provider accepted; it belongs to the day of the first one.
    // A countdown's alerts are its own (alerts.countdown_id) and those ack mode's end reopened into it
    // (countdown_reopens), as countdowns.first_alert_id counts them; the first of them names the page.
    // The on-duty person is whom the first-stage page went to (duty when the page was decided, not when the countdown
    // started); no 'first' row means nobody was on duty and the first page went to everybody.
    private const string PagesSql = """
        SELECT f.countdown_id, f.first_sent_at, f.first_paged_person, f.escalated, f.ack_person, f.reported,
               COALESCE(f.alert_id, 0) AS alert_id, COALESCE(al.host || ': ' || al.message, '') AS summary
        FROM (
            SELECT c.id AS countdown_id,
                   (SELECT MIN(COALESCE(p.sent_at, p.created_at)) FROM pages p WHERE p.countdown_id = c.id AND p.state = 'sent') AS first_sent_at,
                   (SELECT p.person_id FROM pages p WHERE p.countdown_id = c.id AND p.stage = 'first' ORDER BY p.id LIMIT 1) AS first_paged_person,
                   c.escalated_at IS NOT NULL AS escalated,
                   a.person_id AS ack_person,
                   EXISTS (SELECT 1 FROM incident_reports r WHERE r.countdown_id = c.id AND r.person_id = a.person_id) AS reported,
                   (SELECT MIN(m.id) FROM (SELECT MIN(o.id) AS id FROM alerts o WHERE o.countdown_id = c.id
                                           UNION ALL SELECT MIN(r.alert_id) FROM countdown_reopens r WHERE r.countdown_id = c.id) m) AS alert_id
            FROM countdowns c LEFT JOIN acks a ON a.id = c.ack_id
            WHERE EXISTS (SELECT 1 FROM pages p WHERE p.countdown_id = c.id AND p.state = 'sent')
        ) f LEFT JOIN alerts al ON al.id = f.alert_id
        ORDER BY f.first_sent_at, f.countdown_id
        """;

    private const string PostedSql = "SELECT pay_month, day, person_id, kind, countdown_id, amount, duty_ms, pages FROM ledger_entries ORDER BY id";

    private const string InsertSql = """
        INSERT INTO ledger_entries(recorded_at, pay_month, day, person_id, kind, countdown_id, amount, duty_ms, pages)
        VALUES (@recordedAt, @payMonth, @day, @personId, @kind, @countdownId, @amount, @dutyMs, @pages)
        """;

    public LedgerSettings Settings => roster.Ledger;

    public async Task<(List<DutySpan> Duty, List<PageFact> Pages)> FactsAsync(IDbConnection c, IDbTransaction? tx = null)
    {
        var duty = (await DutyStore.ChangesAsync(c, tx)).Select(r => new DutySpan(r.At, r.PersonId)).ToList();
        var pages = (await c.QueryAsync<PageRow>(PagesSql, transaction: tx))
            .Select(r => new PageFact(r.CountdownId, r.FirstSentAt, r.FirstPagedPerson, r.Escalated, r.AckPerson, r.Reported, r.AlertId, r.Summary)).ToList();
        return (duty, pages);
    }

    public static async Task<List<PostedLine>> PostedAsync(IDbConnection c, IDbTransaction? tx = null) =>
        (await c.QueryAsync<PostedRow>(PostedSql, transaction: tx)).Select(r => new PostedLine(r.PayMonth,
            DateOnly.ParseExact(r.Day, "yyyy-MM-dd", CultureInfo.InvariantCulture), r.PersonId, r.Kind, r.CountdownId,
            decimal.Parse(r.Amount, CultureInfo.InvariantCulture), r.DutyMs, (int)r.Pages)).ToList();

    /// <summary>Days that have ended by <paramref name="now"/>, from the first duty change or page on.</summary>
    public IEnumerable<DateOnly> ClosedDays(IReadOnlyList<DutySpan> duty, IReadOnlyList<PageFact> pages, DateTimeOffset now)
    {
        var tz = Settings.TimeZone;
        var firsts = duty.Select(d => d.At).Concat(pages.Select(p => p.FirstSentAt)).ToList();
        if (firsts.Count == 0) yield break;
        for (var d = LedgerCalculator.DayOf(firsts.Min(), tz); LedgerCalculator.Bounds(d, tz).End <= now; d = d.AddDays(1))
            yield return d;
    }

    /// <summary>Appends what the closed days are missing. Returns how many rows were written.</summary>
    public Task<int> SettleAsync(DateTimeOffset now, CancellationToken ct = default) =>
        db.WriteAsync(async (c, tx) =>
        {
            var (duty, pages) = await FactsAsync(c, tx);
            var expected = LedgerCalculator.Compute(ClosedDays(duty, pages, now), Settings, duty, pages);
            var differences = Compare(await PostedAsync(c, tx), expected);
            var paidOut = (await c.QueryAsync<string>("SELECT month FROM payout_runs", transaction: tx)).ToHashSet();
            var nowMonth = LedgerCalculator.MonthOf(LedgerCalculator.DayOf(UnixMs.From(now), Settings.TimeZone));
            foreach (var d in differences)
            {
                var factMonth = LedgerCalculator.MonthOf(d.Day);
                await c.ExecuteAsync(InsertSql, new
                {
                    recordedAt = UnixMs.From(now),
                    // A month already paid out is closed: a late change (a report that releases a held bonus) is paid
                    // with the month in which it was recorded.
                    payMonth = paidOut.Contains(factMonth) ? nowMonth : factMonth,
                    day = d.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    personId = d.PersonId,
                    kind = d.Kind,
                    countdownId = d.CountdownId,
                    amount = (d.Expected - d.Posted).ToString("0.00", CultureInfo.InvariantCulture),
                    dutyMs = d.ExpectedMs - d.PostedMs,
                    pages = d.ExpectedPages - d.PostedPages,
                }, tx);
            }
            return differences.Count;
        }, ct);

    /// <summary>`larsbot ledger verify`: the rules recomputed from the rows, against the ledger, for every closed day.</summary>
    public Task<List<LedgerDifference>> VerifyAsync(DateTimeOffset now) =>
        db.ReadAsync(async c =>
        {
            var (duty, pages) = await FactsAsync(c);
            var expected = LedgerCalculator.Compute(ClosedDays(duty, pages, now), Settings, duty, pages);
            return Compare(await PostedAsync(c), expected)
                .Select(d => new LedgerDifference(d.Day, d.PersonId, d.Kind, d.CountdownId, d.Posted, d.Expected, d.PostedMs, d.ExpectedMs)).ToList();
        });

    private sealed record Diff(DateOnly Day, string PersonId, string Kind, long? CountdownId, decimal Posted, decimal Expected,
        long PostedMs, long ExpectedMs, int PostedPages, int ExpectedPages);

    private static List<Diff> Compare(IEnumerable<PostedLine> posted, IEnumerable<LedgerLine> expected)
    {
        var sums = new Dictionary<(DateOnly, string, string, long?), (decimal Posted, long PostedMs, int PostedPages, decimal Expected, long ExpectedMs, int ExpectedPages)>();
        foreach (var p in posted)
        {
            var k = (p.Day, p.PersonId, p.Kind, p.CountdownId);
            var s = sums.GetValueOrDefault(k);
            sums[k] = s with { Posted = s.Posted + p.Amount, PostedMs = s.PostedMs + p.DutyMs, PostedPages = s.PostedPages + p.Pages };
        }
        foreach (var e in expected)
        {
            var k = (e.Day, e.PersonId, e.Kind, e.CountdownId);
            var s = sums.GetValueOrDefault(k);
            sums[k] = s with { Expected = s.Expected + e.Amount, ExpectedMs = s.ExpectedMs + e.DutyMs, ExpectedPages = s.ExpectedPages + e.Pages };
        }
        return sums.Where(kv => kv.Value.Posted != kv.Value.Expected || kv.Value.PostedMs != kv.Value.ExpectedMs || kv.Value.PostedPages != kv.Value.ExpectedPages)
            .OrderBy(kv => kv.Key.Item1).ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal).ThenBy(kv => kv.Key.Item3, StringComparer.Ordinal).ThenBy(kv => kv.Key.Item4)
            .Select(kv => new Diff(kv.Key.Item1, kv.Key.Item2, kv.Key.Item3, kv.Key.Item4, kv.Value.Posted, kv.Value.Expected,
                kv.Value.PostedMs, kv.Value.ExpectedMs, kv.Value.PostedPages, kv.Value.ExpectedPages))
            .ToList();
    }

    internal sealed class PageRow
    {
        public long CountdownId { get; set; }
        public long FirstSentAt { get; set; }
        public string? FirstPagedPerson { get; set; }
        public bool Escalated { get; set; }
        public string? AckPerson { get; set; }
        public bool Reported { get; set; }
        public long AlertId { get; set; }
        public string Summary { get; set; } = "";
    }

    internal sealed class PostedRow
    {
        public string PayMonth { get; set; } = "";
        public string Day { get; set; } = "";
        public string PersonId { get; set; } = "";
        public string Kind { get; set; } = "";
        public long? CountdownId { get; set; }
        public string Amount { get; set; } = "";
        public long DutyMs { get; set; }
        public long Pages { get; set; }
    }
}
