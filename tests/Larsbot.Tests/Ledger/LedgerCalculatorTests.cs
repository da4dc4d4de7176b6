using Larsbot.Ledger;
using Larsbot.Roster;

namespace Larsbot.Tests.Ledger;

/// <summary>The stipend split on its own: the 25-hour day when Oslo leaves summer time, and cents that must not vanish.</summary>
public class LedgerCalculatorTests
{
    private static readonly TimeZoneInfo Oslo = TimeZoneInfo.FindSystemTimeZoneById("Europe/Oslo");
    private static readonly LedgerSettings Nok = new("NOK", 100.00m, 50.00m, "Europe/Oslo", Oslo);

    private static long At(int month, int day, int hour, int minute = 0) =>
        new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(new DateTime(2026, month, day, hour, minute, 0), Oslo), TimeSpan.Zero).ToUnixTimeMilliseconds();

    [Fact]
    public void The_day_summer_time_ends_has_25_hours_and_still_pays_one_stipend()
    {
        var day = new DateOnly(2026, 10, 25);
        var (start, end) = LedgerCalculator.Bounds(day, Oslo);
        Assert.Equal(TimeSpan.FromHours(25), end - start);

        // a holds 00:00-03:00 local: 02:00-03:00 happens twice, so 4 hours; b holds the other 21. 4/25 x 100 = 16.00.
        var duty = new List<DutySpan> { new(At(10, 24, 12), "a"), new(At(10, 25, 3), "b") };
        var s = LedgerCalculator.StipendsOf(day, Nok, duty);
        Assert.Equal((16.00m, 4 * 3_600_000L), s["a"]);
        Assert.Equal((84.00m, 21 * 3_600_000L), s["b"]);
    }

    [Fact]
    public void Thirds_share_out_every_cent()
    {
        // Three people, 8 hours each, 100.00: 33.333... each; the one cent left goes to the first by id.
        var duty = new List<DutySpan> { new(At(11, 2, 0), "c"), new(At(11, 2, 8), "a"), new(At(11, 2, 16), "b"), new(At(11, 3, 0), null) };
        var s = LedgerCalculator.StipendsOf(new DateOnly(2026, 11, 2), Nok, duty);
        Assert.Equal([("a", 33.34m), ("b", 33.33m), ("c", 33.33m)], s.OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value.Amount)));
    }

    [Fact]
    public void Time_with_nobody_on_duty_pays_nobody()
    {
        // Duty starts at 18:00: a quarter of the day is covered.
        var s = LedgerCalculator.StipendsOf(new DateOnly(2026, 11, 2), Nok, [new(At(11, 2, 18), "a")]);
        Assert.Equal(25.00m, Assert.Single(s).Value.Amount);
    }

    [Fact]
    public void A_second_missed_page_the_same_day_docks_nothing_more()
    {
        var duty = new List<DutySpan> { new(At(11, 1, 0), "a") };
        PageFact[] pages =
        [
            new(1, At(11, 2, 3), "a", Escalated: true, "b", Reported: true, 1, "x"),
            new(2, At(11, 2, 5), "a", Escalated: true, "c", Reported: false, 2, "y"),
            new(3, At(11, 2, 7), "a", Escalated: true, null, Reported: false, 3, "z"),
        ];
        var lines = LedgerCalculator.Compute([new DateOnly(2026, 11, 2)], Nok, duty, pages);
        Assert.Equal([
            ("a", LedgerLine.Stipend, 100.00m),
            ("b", LedgerLine.BonusPaid, 50.00m), ("a", LedgerLine.DockOut, -100.00m), ("b", LedgerLine.DockIn, 100.00m),
            ("c", LedgerLine.BonusHeld, 50.00m),
        ], lines.Select(l => (l.PersonId, l.Kind, l.Amount)));
    }

    [Fact]
    public void Only_a_page_that_ran_on_to_everybody_from_someone_on_duty_docks()
    {
        var duty = new List<DutySpan> { new(At(11, 1, 0), "a") };
        PageFact[] pages =
        [
            new(1, At(11, 2, 3), "a", Escalated: false, "b", Reported: false, 1, "colleague acked first"),
            new(2, At(11, 2, 4), null, Escalated: true, "c", Reported: false, 2, "first page went to everybody"),
            new(3, At(11, 2, 5), "a", Escalated: true, "a", Reported: false, 3, "a acked late, but acked"),
            new(4, At(11, 2, 6), "a", Escalated: true, "b", Reported: false, 4, "a let it run on; b acked"),
        ];
        var lines = LedgerCalculator.Compute([new DateOnly(2026, 11, 2)], Nok, duty, pages)
            .Where(l => l.Kind is LedgerLine.DockOut or LedgerLine.DockIn);
        Assert.Equal([(4L, "a", -100.00m), (4L, "b", 100.00m)], lines.Select(l => (l.CountdownId!.Value, l.PersonId, l.Amount)));
    }

    [Fact]
    public void A_wall_clock_time_on_a_day_daylight_saving_changes_is_that_time_on_the_clock()
    {
        var london = TimeZoneInfo.FindSystemTimeZoneById("Europe/London");
        DateTimeOffset Utc(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);
        // Sun 29 Mar 2026: 01:00 GMT -> 02:00 BST. 09:00 BST; 01:30 does not exist and moves on to 02:00 BST.
        Assert.Equal(Utc(3, 29, 8), LedgerCalculator.LocalTime(new DateOnly(2026, 3, 29), TimeSpan.FromHours(9), london));
        Assert.Equal(Utc(3, 29, 1), LedgerCalculator.LocalTime(new DateOnly(2026, 3, 29), new TimeSpan(1, 30, 0), london));
        // Sun 25 Oct 2026: 02:00 BST -> 01:00 GMT. 09:00 GMT; 01:30 happens twice and is the first, in BST.
        Assert.Equal(Utc(10, 25, 9), LedgerCalculator.LocalTime(new DateOnly(2026, 10, 25), TimeSpan.FromHours(9), london));
        Assert.Equal(Utc(10, 25, 0, 30), LedgerCalculator.LocalTime(new DateOnly(2026, 10, 25), new TimeSpan(1, 30, 0), london));
    }
}
