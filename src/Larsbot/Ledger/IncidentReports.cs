using Dapper;
using Larsbot.Irc;
using Larsbot.Roster;
using Larsbot.Storage;

namespace Larsbot.Ledger;

/// <summary>
/// `lars report &lt;alert-id&gt; &lt;text or URL&gt;`: the write-up that is the price of a page bonus. Anyone in the roster may
/// add a report to a page; the one from the person who acked releases the held bonus (the ledger writes the
/// correction at once for days already settled).
/// </summary>
internal sealed class IncidentReports(Database db, TeamRoster roster, LedgerStore ledger, IChannel channel, TimeProvider time)
{
    private const string PageOfAlertSql = """
        SELECT al.countdown_id, a.person_id AS ack_person,
               EXISTS (SELECT 1 FROM pages p WHERE p.countdown_id = al.countdown_id AND p.state = 'sent') AS paged
        FROM alerts al JOIN countdowns c ON c.id = al.countdown_id LEFT JOIN acks a ON a.id = c.ack_id
        WHERE al.id = @alertId
        """;

    public async Task FileAsync(string nick, Person person, long alertId, string text)
    {
        var now = time.GetUtcNow();
        var page = await db.WriteAsync(async (c, tx) =>
        {
            var p = await c.QuerySingleOrDefaultAsync<PageOfAlert>(PageOfAlertSql, new { alertId }, tx);
            if (p is null || !p.Paged) return p;
            await c.ExecuteAsync("""
                INSERT INTO incident_reports(at, countdown_id, alert_id, person_id, nick, text)
                VALUES (@at, @countdownId, @alertId, @personId, @nick, @text)
                """, new { at = UnixMs.From(now), countdownId = p.CountdownId, alertId, personId = person.Id, nick, text }, tx);
            return p;
        });
        if (page is null)
        {
            channel.Say($"{nick}: alert {alertId} is not part of any page (only urgent alerts that paged someone need a report).");
            return;
        }
        if (!page.Paged)
        {
            channel.Say($"{nick}: alert {alertId} was acked before anyone was paged, so there is no bonus and no report is needed.");
            return;
        }
        if (page.AckPerson == person.Id)
        {
            await ledger.SettleAsync(now);
            var s = roster.Ledger;
            channel.Say($"report: thanks {nick}, incident report filed for page #{page.CountdownId}; your {s.Currency} {s.PageBonus:0.00} page bonus is released.");
        }
        else
        {
            var acker = page.AckPerson is null ? "nobody acked it, so there is no bonus" : $"the bonus waits for {page.AckPerson}'s own report";
            channel.Say($"report: thanks {nick}, noted on page #{page.CountdownId} ({acker}).");
        }
    }

    private sealed class PageOfAlert
    {
        public long CountdownId { get; set; }
        public string? AckPerson { get; set; }
        public bool Paged { get; set; }
    }
}
