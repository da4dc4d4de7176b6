using Dapper;
using Larsbot.Paging;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Paging;

/// <summary>
/// The announce marks a pass's alerts handled a run at a time (one UPDATE over an id range). The range must touch
/// exactly the alerts it was given: never an unhandled alert it was not told about (that one would be handled without
/// ever being said), never one handled earlier in the pass (a silenced or repeated alert keeps its disposition).
/// </summary>
public sealed class MarkHandledTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 3, 0, 0, TimeSpan.Zero);

    private sealed record Row(long Id, long? HandledAt, string? Disposition, long? CountdownId);

    private static async Task<List<Row>> MarkAsync(int alerts, long[] handledBefore, PagingStore.Handled[] marks)
    {
        using var tmp = new TempDatabase();
        using var db = tmp.Open();
        await db.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("INSERT INTO countdowns(id, started_at, page_at, state) VALUES (7, 0, 0, 'counting'), (8, 0, 0, 'counting')", transaction: tx);
            for (var id = 1; id <= alerts; id++)
                await c.ExecuteAsync("INSERT INTO alerts(id, received_at, source, host, level, message) VALUES (@id, 0, 'test', 'h', 'irc', @m)",
                    new { id, m = "m" + id }, tx);
            foreach (var id in handledBefore)
                await c.ExecuteAsync("UPDATE alerts SET handled_at = 1, disposition = 'silenced' WHERE id = @id", new { id }, tx);
            PagingStore.MarkHandled(new Pass(db, c, tx, Now), marks);
        });
        return await db.ReadAsync(async c =>
            (await c.QueryAsync<(long, long?, string?, long?)>("SELECT id, handled_at, disposition, countdown_id FROM alerts ORDER BY id"))
            .Select(r => new Row(r.Item1, r.Item2, r.Item3, r.Item4)).ToList());
    }

    private static PagingStore.Handled[] Announced(params long[] ids) => ids.Select(id => new PagingStore.Handled(id, "announced", null)).ToArray();

    [Fact]
    public async Task A_run_skips_the_alerts_handled_earlier_in_the_pass()
    {
        // 5 was silenced earlier in this pass: the run 1-4, 6-7 spans it.
        var rows = await MarkAsync(8, [5], Announced(1, 2, 3, 4, 6, 7));
        var now = Now.ToUnixTimeMilliseconds();
        Assert.All(rows.Where(r => r.Id is not (5 or 8)), r => Assert.Equal(new Row(r.Id, now, "announced", null), r));
        Assert.Equal(new Row(5, 1, "silenced", null), rows[4]);
        Assert.Equal(new Row(8, null, null, null), rows[7]);
    }

    [Fact]
    public async Task An_unhandled_alert_inside_a_run_but_not_in_it_stays_unhandled()
    {
        // 9 is unhandled and was not given: a range over 8-12 would handle it unsaid.
        var rows = await MarkAsync(12, [], Announced(8, 10, 11, 12));
        var now = Now.ToUnixTimeMilliseconds();
        Assert.Equal(new Row(9, null, null, null), rows[8]);
        foreach (var id in new long[] { 8, 10, 11, 12 }) Assert.Equal(new Row(id, now, "announced", null), rows[(int)id - 1]);
        Assert.All(rows.Take(7), r => Assert.Null(r.HandledAt));
    }

    [Fact]
    public async Task Each_alert_gets_its_own_disposition_and_countdown_across_runs()
    {
        PagingStore.Handled[] marks =
        [
            new(1, "countdown", 7), new(2, "joined", 7), new(3, "joined", 7), new(4, "joined", 7), new(5, "joined", 7),
            new(6, "recorded", null), new(7, "announced", null), new(8, "announced", null),
            new(9, "joined", 8), new(10, "joined", 8), new(11, "joined", 8), new(12, "ack_mode", null),
        ];
        var rows = await MarkAsync(13, [], marks);
        var now = Now.ToUnixTimeMilliseconds();
        foreach (var m in marks) Assert.Equal(new Row(m.Id, now, m.Disposition, m.CountdownId), rows[(int)m.Id - 1]);
        Assert.Equal(new Row(13, null, null, null), rows[12]);
    }
}
