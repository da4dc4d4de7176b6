using Dapper;
using Larsbot.Roster;
using Larsbot.Storage;
using static Larsbot.Text.Wording;

namespace Larsbot.Paging;

/// <summary>
/// Counts each open countdown down (one line every TickEvery), pages the person on duty when it runs out (everybody
/// when nobody holds duty, or at once when IRC is unreachable), and pages everybody when nobody acked in
/// EscalateAfter. Pages are rows in the outbox, written in the pass's transaction.
/// </summary>
internal sealed class CountdownModule(TeamRoster roster, PagingOptions options) : IEngineModule
{
    /// <summary>
    /// A pass this close to the moment it acts on is on schedule, and the countdown's times are counted from that
    /// moment, not from when the pass ran: a countdown from its alert's arrival, the escalation from when the first page
    /// was due. So the few milliseconds a pass runs late are not added again at each step (the timing benchmark found
    /// every everybody-page about as late again as its first page). Further off (the bot was down, or IRC was lost and
    /// it paged early) they are counted from the pass, so a countdown still gives the channel its whole 30 s and the
    /// person paged still has the whole EscalateAfter before everybody is woken.
    /// </summary>
    internal static readonly TimeSpan OnSchedule = TimeSpan.FromSeconds(1);

    /// <summary><paramref name="dueMs"/> when the pass at <paramref name="nowMs"/> is within <see cref="OnSchedule"/> of it, else now.</summary>
    internal static long OnScheduleOr(long dueMs, long nowMs) =>
        Math.Abs(nowMs - dueMs) <= (long)OnSchedule.TotalMilliseconds ? Math.Min(dueMs, nowMs) : nowMs;

    public async Task UpdateAsync(Pass p)
    {
        var (c, tx, now, nowMs) = (p.C, p.Tx, p.Now, p.NowMs);
        foreach (var cd in p.Db.Statement(tx, PagingStore.OpenCountdownsSql).Rows(static r => r.GetRowParser<CountdownRow>()))
        {
            // Only when a line or a page needs it: in a storm this pass runs for every arriving batch. Awaited in place:
            // a continuation queued to the thread pool would hand the pass, and the writer it holds, to another thread,
            // behind every request already queued there.
            async Task<string> Summary() => (await PagingStore.SummaryOfAsync(c, tx, cd.Id)).Summary;
            if (cd.State == CountdownState.Counting && (nowMs >= cd.PageAt || p.ChatDown))
                await FirstPageAsync(p, cd, await Summary());
            else if (cd.State == CountdownState.Counting)
                await TickAsync(p, cd, Summary);
            else if (cd.State == CountdownState.Paged && nowMs >= cd.EscalateAt)
                await EscalateAsync(p, cd, await Summary());
        }
        // When to look again, from the rows as this pass left them.
        var tickMs = (long)options.TickEvery.TotalMilliseconds;
        foreach (var cd in p.Db.Statement(tx, PagingStore.OpenCountdownsSql).Rows(static r => r.GetRowParser<CountdownRow>()))
        {
            if (cd.State == CountdownState.Counting) p.WakeAt(Math.Min(cd.PageAt, cd.StartedAt + (cd.LastTick + 1) * tickMs));
            else if (cd.EscalateAt is { } e) p.WakeAt(e);
        }
    }

    private async Task FirstPageAsync(Pass p, CountdownRow cd, string summary)
    {
        var (c, tx, now, nowMs) = (p.C, p.Tx, p.Now, p.NowMs);
        if (nowMs < cd.PageAt)
            await p.SayAsync($"LarsSMS: IRC has been unreachable for over {Duration(options.IrcDownGrace)}, nobody can ack: paging now instead of in {Secs(UnixMs.To(cd.PageAt) - now)} secs");
        var duty = await PagingStore.CurrentDutyAsync(c, tx, roster);
        if (duty is null)
        {
            // Nobody holds duty: the first page goes to everybody, and there is nobody left to escalate to.
            await PagingStore.WritePagesAsync(c, tx, cd.Id, "everyone", roster.People, summary, now);
            await c.ExecuteAsync("UPDATE countdowns SET state = 'escalated', paged_at = @now, escalated_at = @now WHERE id = @id",
                new { now = nowMs, id = cd.Id }, tx);
            await p.SayAsync($"LarsSMS: nobody on duty, paging everybody now ({string.Join(", ", roster.People.Select(x => x.Label))}): '{Quote(summary)}'");
        }
        else
        {
            await PagingStore.WritePagesAsync(c, tx, cd.Id, "first", [duty], summary, now);
            await c.ExecuteAsync("UPDATE countdowns SET state = 'paged', paged_at = @now, escalate_at = @esc WHERE id = @id",
                new { now = nowMs, esc = OnScheduleOr(cd.PageAt, nowMs) + (long)options.EscalateAfter.TotalMilliseconds, id = cd.Id }, tx);
            await p.SayAsync($"LarsSMS: paging {duty.Label} now: '{Quote(summary)}'. Everybody in {Duration(options.EscalateAfter)} unless someone says 'lars ack'");
        }
    }

    private async Task TickAsync(Pass p, CountdownRow cd, Func<Task<string>> summary)
    {
        // Say only the latest tick that is due: after a restart the channel gets one line, not a backlog. The line is
        // tied to its countdown (an ack purges it) and expires at the next tick (a late "in 20 secs" is wrong).
        var tickMs = (long)options.TickEvery.TotalMilliseconds;
        var tick = (p.NowMs - cd.StartedAt) / tickMs;
        var tickAt = cd.StartedAt + tick * tickMs;
        if (tick <= cd.LastTick || tickAt >= cd.PageAt) return;
        var (targets, everybody) = await PagingStore.FirstPageTargetsAsync(p.C, p.Tx, roster);
        await p.SayAsync($"LarsSMS: '{Quote(await summary())}' in {Secs(UnixMs.To(cd.PageAt) - UnixMs.To(tickAt))} secs to {PagingStore.Targets(targets, everybody)}",
            cd.Id, UnixMs.To(Math.Min(tickAt + tickMs, cd.PageAt)));
        await p.C.ExecuteAsync("UPDATE countdowns SET last_tick = @tick WHERE id = @id", new { tick, id = cd.Id }, p.Tx);
    }

    private async Task EscalateAsync(Pass p, CountdownRow cd, string summary)
    {
        await PagingStore.WritePagesAsync(p.C, p.Tx, cd.Id, "everyone", roster.People, $"{summary} (not acked in {Duration(options.EscalateAfter)}: paging everybody)", p.Now);
        await p.C.ExecuteAsync("UPDATE countdowns SET state = 'escalated', escalated_at = @now WHERE id = @id", new { now = p.NowMs, id = cd.Id }, p.Tx);
        await p.SayAsync($"LarsSMS: nobody acked in {Duration(options.EscalateAfter)}, paging everybody ({string.Join(", ", roster.People.Select(x => x.Label))}): '{Quote(summary)}'");
    }
}
