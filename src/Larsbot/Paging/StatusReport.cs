using System.Data;
using System.Globalization;
using Dapper;
using Larsbot.Roster;
using Larsbot.Storage;
using static Larsbot.Text.Wording;

namespace Larsbot.Paging;

/// <summary>What people ask the engine: `lars duty` and `lars status` (mode, duty, open pages and each page's fate).</summary>
public sealed class StatusReport(Database db, TeamRoster roster, TimeProvider time)
{
    private sealed class ActiveAckMode
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
                if (await PageFatesAsync(c, cd.Id) is { } fates) lines.Add($"status: #{cd.Id} pages: {fates}");
            }
            var retrying = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM pages WHERE state = 'due' AND attempts > 0");
            if (retrying > 0) lines.Add($"status: {retrying} page(s) waiting to be retried after a provider failure");
            if (open.Count == 0) lines.Add("status: no open alerts");
            await SilenceStore.AddStatusAsync(c, now, lines);
            return lines;
        });
    }

    private sealed class PageFate
    {
        public string Channel { get; set; } = "";
        public string PersonId { get; set; } = "";
        public string State { get; set; } = "";
        public long At { get; set; }
    }

    /// <summary>
    /// Each page's last known state for `lars status`: "sms brong delivered 03:11:07, push brong sent 03:11:05" (UTC),
    /// the provider's delivery report where there is one, else the outbox state. Null when nothing was paged yet.
    /// </summary>
    private static async Task<string?> PageFatesAsync(System.Data.IDbConnection c, long countdownId)
    {
        var fates = (await c.QueryAsync<PageFate>("""
            SELECT channel, person_id, COALESCE(delivery_state, state) AS state, COALESCE(delivery_at, sent_at, created_at) AS at
            FROM pages WHERE countdown_id = @countdownId AND stage <> 'followup' ORDER BY id
            """, new { countdownId })).ToList();
        if (fates.Count == 0) return null;
        const int shown = 8;
        return string.Join(", ", fates.Take(shown).Select(f =>
                   $"{f.Channel} {f.PersonId} {f.State} {UnixMs.To(f.At).ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)}")) +
               (fates.Count > shown ? $" (+{fates.Count - shown} more)" : "");
    }
}
