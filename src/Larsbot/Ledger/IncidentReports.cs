using Dapper;
using Larsbot.Outbox;
using Larsbot.Roster;
using Larsbot.Storage;

namespace Larsbot.Ledger;

/// <summary>
/// `lars report &lt;alert-id&gt; &lt;text or URL&gt;`: the write-up that is the price of a page bonus. Anyone in the roster may
/// add a report to a page; the one from the person who acked releases the held bonus (the ledger writes the
/// correction at once for days already settled).
/// </summary>
internal sealed class IncidentReports(Database db, TeamRoster roster, LedgerStore ledger, OutboxStore outbox, TimeProvider time)
{
    // An alert belongs to its own countdown (alerts.countdown_id) and to any that ack mode's end reopened it into
    // (countdown_reopens), so one alert can be in several. The report goes to the one it can count for: a page
    // before a countdown acked before anyone was paged; then one this person acked and has not reported yet (so a
    // second report on the same alert releases the older of two bonuses, not the same one twice); then one somebody
    // acked; then the most recent.
    private const string PageOfAlertSql = """
        SELECT c.id AS countdown_id, a.person_id AS ack_person,
               EXISTS (SELECT 1 FROM pages p WHERE p.countdown_id = c.id AND p.state = 'sent') AS paged
        FROM countdowns c LEFT JOIN acks a ON a.id = c.ack_id
        WHERE c.id IN (SELECT al.countdown_id FROM alerts al WHERE al.id = @alertId
                       UNION SELECT r.countdown_id FROM countdown_reopens r WHERE r.alert_id = @alertId)
        ORDER BY paged DESC,
                 CASE WHEN a.person_id = @personId
                  AND NOT EXISTS (SELECT 1 FROM incident_reports ir WHERE ir.countdown_id = c.id AND ir.person_id = @personId) THEN 1 ELSE 0 END DESC,
                 a.person_id IS NOT NULL DESC,
                 c.id DESC
        LIMIT 1
        """;

    public async Task FileAsync(string nick, Person person, long alertId, string text)
    {
        var now = time.GetUtcNow();
        var page = await db.WriteAsync(async (c, tx) =>
        {
            var p = await c.QuerySingleOrDefaultAsync<PageOfAlert>(PageOfAlertSql, new { alertId, personId = person.Id }, tx);
            if (p is null || !p.Paged) return p;
            await c.ExecuteAsync("""
                INSERT INTO incident_reports(at, countdown_id, alert_id, person_id, nick, text)
                VALUES (@at, @countdownId, @alertId, @personId, @nick, @text)
                """, new { at = UnixMs.From(now), countdownId = p.CountdownId, alertId, personId = person.Id, nick, text }, tx);
            return p;
        });
        if (page is null)
        {
            await outbox.SayAsync($"{nick}: alert {alertId} is not part of any page (only urgent alerts that paged someone need a report).");
            return;
        }
        if (!page.Paged)
        {
            await outbox.SayAsync($"{nick}: alert {alertId} was acked before anyone was paged, so there is no bonus and no report is needed.");
            return;
        }
        if (page.AckPerson == person.Id)
        {
            await ledger.SettleAsync(now);
            var s = roster.Ledger;
            await outbox.SayAsync($"report: thanks {nick}, incident report filed for page #{page.CountdownId}; your {s.Currency} {s.PageBonus:0.00} page bonus is released.");
        }
        else
        {
            var acker = page.AckPerson is null ? "nobody acked it, so there is no bonus" : $"the bonus waits for {page.AckPerson}'s own report";
            await outbox.SayAsync($"report: thanks {nick}, noted on page #{page.CountdownId} ({acker}).");
        }
    }

    internal sealed class PageOfAlert
    {
        public long CountdownId { get; set; }
        public string? AckPerson { get; set; }
        public bool Paged { get; set; }
    }
}
