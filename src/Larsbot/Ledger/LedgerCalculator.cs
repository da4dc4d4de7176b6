using System.Globalization;
using Larsbot.Roster;

namespace Larsbot.Ledger;

/// <summary>One person's share of one fact: what the ledger should say, before it is written down.</summary>
internal sealed record LedgerLine(DateOnly Day, string PersonId, string Kind, long? CountdownId, decimal Amount, long DutyMs, int Pages)
{
    public const string Stipend = "stipend";
    public const string BonusPaid = "bonus_paid";
    public const string BonusHeld = "bonus_held";
    public const string DockOut = "dock_out";
    public const string DockIn = "dock_in";
}

/// <summary>A duty change as the ledger needs it: from <see cref="At"/> on, <see cref="PersonId"/> (null = nobody) holds duty.</summary>
internal sealed record DutySpan(long At, string? PersonId);

/// <summary>
/// A page: a countdown for which at least one SMS or push was accepted by a provider. <see cref="FirstSentAt"/>
/// places it on a calendar day; <see cref="FirstPagedPerson"/> is who the first-stage page went to, the person on
/// duty when the page was decided (null: nobody was, and the first page went to everybody); <see cref="Escalated"/>
/// says it ran on to everybody (no ack within EscalateAfter of the first page, or nobody on duty);
/// <see cref="AckPerson"/> whose `lars ack` ended it (null: nobody did).
/// </summary>
internal sealed record PageFact(long CountdownId, long FirstSentAt, string? FirstPagedPerson, bool Escalated, string? AckPerson,
    bool Reported, long AlertId, string Summary);

/// <summary>
/// The ledger rules as a pure function of the facts, so the stored ledger can always be derived again and checked.
/// Money is decimal throughout; rounding happens once per day, to the cent, and never loses or invents a cent.
/// </summary>
internal static class LedgerCalculator
{
    /// <summary>The UTC instants a ledger day starts and ends (23 or 25 hours apart across a DST change).</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) Bounds(DateOnly day, TimeZoneInfo tz) =>
        (LocalMidnight(day, tz), LocalMidnight(day.AddDays(1), tz));

    public static DateOnly DayOf(long unixMs, TimeZoneInfo tz) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(unixMs), tz).DateTime);

    public static string MonthOf(DateOnly day) => day.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>
    /// A wall-clock time on a ledger day as an instant: a time that does not exist that day (the hour skipped when
    /// DST starts) moves forward to the first minute that does; a time that happens twice (DST ends) is the first.
    /// </summary>
    public static DateTimeOffset LocalTime(DateOnly day, TimeSpan timeOfDay, TimeZoneInfo tz)
    {
        var local = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified) + timeOfDay;
        while (tz.IsInvalidTime(local)) local = local.AddMinutes(1);
        // The larger offset is the earlier instant (summer time, before the clocks go back).
        var offset = tz.IsAmbiguousTime(local) ? tz.GetAmbiguousTimeOffsets(local).Max() : tz.GetUtcOffset(local);
        return new DateTimeOffset(local, offset).ToUniversalTime();
    }

    private static DateTimeOffset LocalMidnight(DateOnly day, TimeZoneInfo tz)
    {
        // A few zones skip midnight itself when DST starts; the day then starts at the first minute that exists.
        var local = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        while (tz.IsInvalidTime(local)) local = local.AddMinutes(1);
        return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, tz), TimeSpan.Zero);
    }

    /// <summary>Every line the rules give for <paramref name="days"/>: stipends, page bonuses (paid or held), dockings.</summary>
    public static List<LedgerLine> Compute(IEnumerable<DateOnly> days, LedgerSettings settings,
        IReadOnlyList<DutySpan> duty, IReadOnlyList<PageFact> pages)
    {
        var lines = new List<LedgerLine>();
        var pagesByDay = pages.GroupBy(p => DayOf(p.FirstSentAt, settings.TimeZone)).ToDictionary(g => g.Key, g => g.OrderBy(p => p.FirstSentAt).ToList());
        foreach (var day in days)
        {
            var stipends = StipendsOf(day, settings, duty);
            foreach (var (person, (amount, ms)) in stipends)
                lines.Add(new LedgerLine(day, person, LedgerLine.Stipend, null, amount, ms, 0));

            var docked = new HashSet<string>();
            foreach (var page in pagesByDay.GetValueOrDefault(day) ?? [])
            {
                if (page.AckPerson is null) continue; // nobody acked: no bonus, nobody to dock to
                lines.Add(new LedgerLine(day, page.AckPerson, page.Reported ? LedgerLine.BonusPaid : LedgerLine.BonusHeld,
                    page.CountdownId, settings.PageBonus, 0, 1));

                // "If you don't respond to a page and are on duty, you get docked the entire day's duty payment and it
                // goes to the person who responded instead": only when the page ran on to everybody. A colleague who
                // acks before that earns the bonus but takes nothing from the person on duty. Docked once per day:
                // the whole day's stipend can only go to one person, the first who answered.
                if (page.Escalated && page.FirstPagedPerson is { } onDuty && onDuty != page.AckPerson && docked.Add(onDuty)
                    && stipends.TryGetValue(onDuty, out var s) && s.Amount > 0)
                {
                    lines.Add(new LedgerLine(day, onDuty, LedgerLine.DockOut, page.CountdownId, -s.Amount, 0, 0));
                    lines.Add(new LedgerLine(day, page.AckPerson, LedgerLine.DockIn, page.CountdownId, s.Amount, 0, 0));
                }
            }
        }
        return lines;
    }

    /// <summary>
    /// One day's stipend split by time held. The day's pay is stipendPerDay times the share of the day anybody held
    /// duty, rounded to the cent; it is then shared out in whole cents by largest remainder (ties: person id), so the
    /// shares always add up to the day's pay.
    /// </summary>
    public static Dictionary<string, (decimal Amount, long Ms)> StipendsOf(DateOnly day, LedgerSettings settings, IReadOnlyList<DutySpan> duty)
    {
        var (start, end) = Bounds(day, settings.TimeZone);
        long ds = start.ToUnixTimeMilliseconds(), de = end.ToUnixTimeMilliseconds(), dayMs = de - ds;
        var held = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < duty.Count; i++)
        {
            if (duty[i].PersonId is not { } person) continue;
            var from = Math.Max(duty[i].At, ds);
            var to = Math.Min(i + 1 < duty.Count ? duty[i + 1].At : long.MaxValue, de);
            if (to > from) held[person] = held.GetValueOrDefault(person) + (to - from);
        }
        var result = new Dictionary<string, (decimal, long)>();
        if (held.Count == 0) return result;

        var covered = held.Values.Sum();
        var dayPay = covered == dayMs ? settings.StipendPerDay : Math.Round(settings.StipendPerDay * covered / dayMs, 2, MidpointRounding.AwayFromZero);
        var shares = held.Select(h =>
        {
            var exact = dayPay * h.Value / covered;
            var floor = Math.Floor(exact * 100) / 100;
            return (Person: h.Key, Ms: h.Value, Floor: floor, Remainder: exact - floor);
        }).ToList();
        var cents = (int)((dayPay - shares.Sum(s => s.Floor)) * 100);
        var extra = shares.OrderByDescending(s => s.Remainder).ThenBy(s => s.Person, StringComparer.Ordinal).Take(cents).Select(s => s.Person).ToHashSet();
        foreach (var s in shares)
            result[s.Person] = (s.Floor + (extra.Contains(s.Person) ? 0.01m : 0m), s.Ms);
        return result;
    }

    /// <summary>The ledger days of a month, "2026-10" -> 1 Oct .. 31 Oct.</summary>
    public static IEnumerable<DateOnly> DaysOf(string month)
    {
        var first = DateOnly.ParseExact(month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture);
        for (var d = first; d.Month == first.Month; d = d.AddDays(1)) yield return d;
    }
}
