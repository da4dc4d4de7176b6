using System.Globalization;
using Dapper;
using Larsbot.Outbox;
using Larsbot.Duty;
using Larsbot.Roster;
using Larsbot.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Ledger;

/// <summary>
/// Builds payout reports from the ledger, decides when the monthly report is due, and reminds about missing
/// incident reports. Every decision reads the rows and the injected clock, so tests drive it with a FakeTimeProvider;
/// the Quartz job and the hourly loop only call in here.
/// </summary>
internal sealed class Payouts(Database db, TeamRoster roster, LedgerStore ledger, OutboxStore outbox, TimeProvider time,
    IOptions<LedgerOptions> options, ILogger<Payouts> log)
{
    private LedgerSettings Settings => roster.Ledger;
    private TimeZoneInfo Tz => Settings.TimeZone;

    public string MonthNow() => LedgerCalculator.MonthOf(LedgerCalculator.DayOf(UnixMs.From(time.GetUtcNow()), Tz));

    /// <summary>The month's report: settled ledger rows, plus today's stipend so far when the month is still running.</summary>
    public async Task<PayoutReport> BuildAsync(string month, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        await ledger.SettleAsync(now, ct);
        var (posted, duty, pages) = await db.ReadAsync(async c =>
        {
            var (d, p) = await ledger.FactsAsync(c);
            return (await LedgerStore.PostedAsync(c), d, p);
        });
        var lines = posted.Where(p => p.PayMonth == month)
            .Select(p => new LedgerLine(p.Day, p.PersonId, p.Kind, p.CountdownId, p.Amount, p.DutyMs, p.Pages)).ToList();

        // The day that is still running is not in the ledger yet; show it as if duty stays as it is until midnight.
        var openDays = LedgerCalculator.DaysOf(month).Where(d => LedgerCalculator.Bounds(d, Tz) is var b && b.Start <= now && b.End > now).ToList();
        lines.AddRange(LedgerCalculator.Compute(openDays, Settings, duty, pages));
        var provisional = LedgerCalculator.Bounds(LedgerCalculator.DaysOf(month).Last(), Tz).End > now;

        var ids = roster.People.Select(p => p.Id).Concat(lines.Select(l => l.PersonId)).Distinct().ToList();
        var rows = ids.Select(id =>
        {
            var mine = lines.Where(l => l.PersonId == id).ToList();
            decimal Sum(string kind) => mine.Where(l => l.Kind == kind).Sum(l => l.Amount);
            return new PayoutRow(id, roster.FindById(id)?.Name ?? id, mine.Sum(l => l.DutyMs), Sum(LedgerLine.Stipend),
                mine.Where(l => l.Kind is LedgerLine.BonusPaid or LedgerLine.BonusHeld).Sum(l => l.Pages),
                Sum(LedgerLine.BonusPaid), Sum(LedgerLine.BonusHeld), -Sum(LedgerLine.DockOut), Sum(LedgerLine.DockIn));
        }).ToList();

        var lastDay = LedgerCalculator.DaysOf(month).Last();
        var missing = pages.Where(p => p.AckPerson is not null && !p.Reported && LedgerCalculator.DayOf(p.FirstSentAt, Tz) <= lastDay)
            .Select(p => new MissingReport(p.CountdownId, p.AlertId, p.AckPerson!, LedgerCalculator.DayOf(p.FirstSentAt, Tz), p.Summary)).ToList();
        var unanswered = pages.Where(p => p.AckPerson is null && LedgerCalculator.MonthOf(LedgerCalculator.DayOf(p.FirstSentAt, Tz)) == month)
            .Select(p => new UnansweredPage(p.CountdownId, p.AlertId, LedgerCalculator.DayOf(p.FirstSentAt, Tz), p.Summary)).ToList();
        return new PayoutReport(month, Settings.Currency, Settings.TimeZoneId, provisional, rows, missing, unanswered);
    }

    /// <summary>The one line for IRC: each person's total, the month's total, and what is held.</summary>
    public static string Summary(PayoutReport r)
    {
        var people = string.Join(", ", r.Rows.Select(p => $"{p.PersonId} {M(p.Total)}"));
        var held = r.Totals.BonusHeld > 0 ? $"; {M(r.Totals.BonusHeld)} held until {r.Missing.Count} incident report(s) are filed" : "";
        return $"payout {r.Month}{(r.Provisional ? " so far" : "")} ({r.Currency}): {people}; total {M(r.Totals.Total)}{held}";
    }

    private static string M(decimal d) => d.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>When month's report is due: the 1st of the next month at RunAt, ledger time.</summary>
    public DateTimeOffset DueAt(string month)
    {
        var next = LedgerCalculator.DaysOf(month).Last().AddDays(1);
        return LedgerCalculator.LocalTime(next, options.Value.RunAt, Tz);
    }

    /// <summary>
    /// Writes every month whose report is due and not yet written (normally just last month, at 09:00 on the 1st;
    /// after a restart or an outage, whatever was missed), records it in payout_runs, and posts the summary.
    /// </summary>
    public async Task<IReadOnlyList<string>> RunDueAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var (first, done) = await db.ReadAsync(async c =>
        {
            var f = await DutyStore.FirstChangeAtAsync(c);
            return (f, (await c.QueryAsync<string>("SELECT month FROM payout_runs")).ToHashSet());
        });
        if (first is null) return [];
        var ran = new List<string>();
        (string Month, string Line)? latest = null;
        for (var month = LedgerCalculator.MonthOf(LedgerCalculator.DayOf(first.Value, Tz)); DueAt(month) <= now; month = NextMonth(month))
        {
            if (done.Contains(month)) continue;
            var folder = Path.GetFullPath(options.Value.ReportFolder);
            var report = await BuildAsync(month, ct);
            Directory.CreateDirectory(folder);
            foreach (var format in PayoutReport.Formats)
                await File.WriteAllTextAsync(Path.Combine(folder, $"payout-{month}.{format}"), report.Render(format), ct);
            // OR IGNORE: two runs racing (the start-up catch-up and the Quartz trigger) write the same files and one row.
            var inserted = await db.WriteAsync((c, tx) => c.ExecuteAsync("INSERT INTO payout_runs(month, ran_at, folder) VALUES (@month, @at, @folder) ON CONFLICT DO NOTHING",
                new { month, at = UnixMs.From(now), folder }, tx), ct);
            if (inserted == 0) continue;
            log.LogInformation("Payout report for {Month} written to {Folder}", month, folder);
            ran.Add(month);
            latest = (month, Summary(report) + $" - report in {folder}/payout-{month}.html");
        }
        // One line for the month just closed. A catch-up of many months (first start after an upgrade, a long
        // outage) writes every report but must not flood the channel a line a month, ahead of real alerts.
        if (latest is { } l)
        {
            await outbox.SayAsync(l.Line);
            if (ran.Count > 1) await outbox.SayAsync($"payout: also wrote {ran.Count - 1} older report(s) ({ran[0]} to {ran[^2]}) in {Path.GetFullPath(options.Value.ReportFolder)}");
        }
        return ran;
    }

    private static string NextMonth(string month) =>
        LedgerCalculator.MonthOf(DateOnly.ParseExact(month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture).AddMonths(1));

    /// <summary>
    /// Once a ledger day, from RunAt on, one line per page whose bonus is held for a missing report. A row per page and
    /// day remembers it was said, so a restart does not say it again.
    /// </summary>
    public async Task<int> RemindAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var today = LedgerCalculator.DayOf(UnixMs.From(now), Tz);
        // RunAt on the clock that day, not RunAt after midnight: on a day with 23 or 25 hours they differ by an hour.
        if (LedgerCalculator.LocalTime(today, options.Value.RunAt, Tz) > now) return 0;
        var day = today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var lines = await db.WriteAsync(async (c, tx) =>
        {
            var (_, pages) = await ledger.FactsAsync(c, tx);
            var due = new List<PageFact>();
            foreach (var p in pages.Where(p => p.AckPerson is not null && !p.Reported))
            {
                var n = await c.ExecuteAsync("INSERT INTO report_reminders(countdown_id, day, at) VALUES (@id, @day, @at) ON CONFLICT DO NOTHING",
                    new { id = p.CountdownId, day, at = UnixMs.From(now) }, tx);
                if (n > 0) due.Add(p);
            }
            return due;
        }, ct);
        // One line per person, however many reports are missing: the channel queue is shared with URGENT lines, and
        // eight reminders said at once held an alert's line back 3 s behind them (the server paces each client).
        foreach (var group in lines.GroupBy(p => p.AckPerson!))
        {
            var who = roster.FindById(group.Key)?.Nicks[0] ?? group.Key;
            var list = group.ToList();
            string Page(PageFact p) => $"page #{p.CountdownId} ({p.Summary}, {LedgerCalculator.DayOf(p.FirstSentAt, Tz):yyyy-MM-dd})";
            if (list.Count == 1)
            {
                await outbox.SayAsync($"{who}: incident report missing for {Page(list[0])}; your {Settings.Currency} {M(Settings.PageBonus)} bonus is held until 'lars report {list[0].AlertId} <text or URL>'");
                continue;
            }
            const int shown = 4;
            await outbox.SayAsync($"{who}: incident reports missing for {list.Count} pages, {Settings.Currency} {M(Settings.PageBonus * list.Count)} in bonuses held: " +
                        string.Join(", ", list.Take(shown).Select(p => $"'lars report {p.AlertId} <text or URL>' for {Page(p)}")) +
                        (list.Count > shown ? $" (+{list.Count - shown} more)" : ""));
        }
        return lines.Count;
    }
}
