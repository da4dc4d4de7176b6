using System.Data;
using System.Globalization;
using Dapper;
using Larsbot.Outbox;
using Larsbot.Roster;
using Larsbot.Storage;

namespace Larsbot.Paging;

/// <summary>
/// The people woken hear the outcome. When a countdown that paged is acked (any way) or resolved, everyone who was
/// actually paged for it (a page sent, or on the wire) gets one short follow-up on the channel that reached them:
/// `lars: brong has it (acked 03:12) - db1: disk / at 99%`, `lars: resolved - db1: disk / at 99%`. It is a pages row
/// of stage 'followup', written in the transaction that closed the countdown, so it goes through the same outbox
/// and retries; the UNIQUE key and one channel per person make it at most one per person per countdown. The person
/// who acked is not told what they did. `Paging:TellPagedOnAck=false` turns this off.
/// </summary>
internal static class FollowUps
{
    internal const string FollowUpStage = "followup";

    // One row per person paged for the countdown: the channel that reached them, SMS before push (a call's person
    // had an SMS too). 'sending' counts: it is on the wire and will reach them. One the provider reported as not
    // delivered did not reach them.
    private const string PagedPeopleSql = """
        SELECT person_id, channel, destination FROM (
          SELECT person_id, channel, destination,
                 ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY CASE channel WHEN 'sms' THEN 0 WHEN 'push' THEN 1 ELSE 2 END, id) AS n
          FROM pages WHERE countdown_id = @countdownId AND stage <> 'followup' AND channel IN ('sms', 'push') AND state IN ('sent', 'sending')
            AND COALESCE(delivery_state, '') NOT IN ('undelivered', 'failed', 'canceled')) AS ranked
        WHERE n = 1 ORDER BY person_id
        """;

    internal sealed class PagedPerson
    {
        public string PersonId { get; set; } = "";
        public string Channel { get; set; } = "";
        public string Destination { get; set; } = "";
    }

    /// <summary>Writes the follow-ups for one closed countdown. <paramref name="ackedBy"/> null: it was resolved.</summary>
    public static async Task WriteAsync(IDbConnection c, IDbTransaction tx, long countdownId, string? ackedBy, DateTimeOffset now,
        PagingOptions options, TeamRoster roster)
    {
        if (!options.TellPagedOnAck) return;
        var people = (await c.QueryAsync<PagedPerson>(PagedPeopleSql, new { countdownId }, tx)).ToList();
        if (people.Count == 0) return;
        var (_, summary) = await PagingStore.SummaryOfAsync(c, tx, countdownId);
        foreach (var p in people.Where(p => p.PersonId != ackedBy))
        {
            var tz = roster.FindById(p.PersonId)?.TimeZone ?? TimeZoneInfo.Utc;
            var at = TimeZoneInfo.ConvertTime(now, tz).ToString("HH:mm", CultureInfo.InvariantCulture);
            var body = ackedBy is null ? $"lars: resolved - {summary}" : $"lars: {ackedBy} has it (acked {at}) - {summary}";
            await OutboxStore.PageAsync(c, tx, now, countdownId, FollowUpStage, p.PersonId, p.Channel, p.Destination,
                ackedBy is null ? "Larsbot: resolved" : "Larsbot: acked", body);
        }
    }
}
