using System.Data;
using System.Globalization;
using Dapper;
using Larsbot.Outbox;
using Larsbot.Roster;
using Larsbot.Storage;
using static Larsbot.Text.Wording;

namespace Larsbot.Paging;

/// <summary>What people ask the engine: `lars duty` and `lars status` (mode, duty, open pages and each page's fate).</summary>
public sealed class StatusReport(Database db, TeamRoster roster, TimeProvider time)
{
    internal sealed class ActiveAckMode
    {
        public long EndsAt { get; set; }
        public string Nick { get; set; } = "";
    }

    /// <summary>`lars status`: mode, duty, what is open. A few lines, newest state first.</summary>
    public async Task<IReadOnlyList<string>> StatusAsync()
    {
        var now = time.GetUtcNow();
        return await db.ReadAsync<IReadOnlyList<string>>(async c =>
        {
            var lines = new List<string>();
            var ackMode = await c.QuerySingleOrDefaultAsync<ActiveAckMode>(
                "SELECT m.ends_at, a.nick FROM ack_modes m JOIN acks a ON a.id = m.ack_id WHERE m.ended_at IS NULL AND m.ends_at > @now",
                new { now = UnixMs.From(now) });
            var duty = await PagingStore.CurrentDutyAsync(c, null, roster);
            var mode = ackMode is not null && ackMode is var m
                ? $"acked mode (by {m.Nick}, {Duration(UnixMs.To(m.EndsAt) - now)} left)"
                : "normal mode";
            lines.Add($"status: {mode}; on duty: {(duty is null ? "nobody (pages go to everybody)" : $"{duty.Name} ({duty.Id})")}");

            var open = (await c.QueryAsync<CountdownRow>(
                PagingStore.UnackedCountdownsSql)).ToList();
            foreach (var cd in open)
            {
                var (_, summary) = await PagingStore.SummaryOfAsync(c, null, cd.Id);
                var what = cd.State switch
                {
                    CountdownState.Counting => $"pages in {Secs(UnixMs.To(cd.PageAt) - now)} secs",
                    CountdownState.Paged => $"paged, everybody in {Duration(UnixMs.To(cd.EscalateAt!.Value) - now)}",
                    _ => "everybody paged, not acked yet",
                };
                lines.Add($"status: open #{cd.Id}: {what}: '{summary}'");
                if (await OutboxStore.FatesAsync(c, cd.Id) is { } fates) lines.Add($"status: #{cd.Id} pages: {fates}");
            }
            var retrying = await OutboxStore.RetryingAsync(c);
            if (retrying > 0) lines.Add($"status: {retrying} page(s) waiting to be retried after a provider failure");
            if (open.Count == 0) lines.Add("status: no open alerts");
            await SilenceStore.AddStatusAsync(c, now, lines);
            return lines;
        });
    }
}
