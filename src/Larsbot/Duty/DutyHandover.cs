using System.Globalization;
using Dapper;
using Larsbot.Outbox;
using Larsbot.Roster;
using Larsbot.Storage;
using static Larsbot.Text.Wording;

namespace Larsbot.Duty;

/// <summary>
/// `lars duty take`, `lars duty`, and `lars duty give/accept/decline/history`. Each writes its duty_changes row and
/// its answer (a line in the outbox) in one transaction and wakes the engine, whose topic follows the rows. Giving duty away is allowed but discouraged (the person on duty should
/// be knowingly taking it on), so a give is only an offer: a duty_offers row that the named person must accept within
/// <see cref="OfferLifetime"/>. The offer is a row checked against the injected clock, so it survives a restart and
/// expires on time without a timer.
/// </summary>
public sealed class DutyHandover(Database db, TeamRoster roster, OutboxStore outbox, EngineWake wake, TimeProvider time)
{
    /// <summary>`lars duty take`: the speaker is on duty from now on.</summary>
    public async Task TakeAsync(string nick, Person person, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        await db.WriteAsync(async (c, tx) =>
        {
            var previous = roster.FindById((await DutyStore.CurrentAsync(c, tx))?.PersonId);
            if (previous?.Id != person.Id)
                await DutyStore.RecordAsync(c, tx, now, person.Id, nick, "take");
            var local = TimeZoneInfo.ConvertTime(now, person.TimeZone);
            await OutboxStore.SayAsync(c, tx, now, previous?.Id == person.Id
                ? $"duty: {person.Name} ({nick}) is already on duty"
                : $"duty: {person.Name} ({nick}) is now on duty" + (previous is null ? "" : $", taking over from {previous.Name}") +
                  $" ({local.ToString("ddd HH:mm", CultureInfo.InvariantCulture)} in {person.TimeZoneId})");
        }, ct);
        outbox.Wake.Set();
        wake.Set(); // the topic follows
    }

    /// <summary>`lars duty`: who holds duty, since when, and the time where they are.</summary>
    public async Task<string> ReportAsync()
    {
        var row = await db.ReadAsync(c => DutyStore.CurrentAsync(c));
        var person = roster.FindById(row?.PersonId);
        if (person is null) return "duty: nobody is on duty. Urgent pages go to everybody. Say 'lars duty take' to take it.";
        var now = time.GetUtcNow();
        var since = UnixMs.To(row!.At);
        var local = TimeZoneInfo.ConvertTime(now, person.TimeZone);
        return $"duty: {person.Name} ({person.Id}) since {since.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC ({Duration(now - since)} ago); " +
               $"their time now {local.ToString("ddd HH:mm", CultureInfo.InvariantCulture)} {person.TimeZoneId}";
    }

    public static readonly TimeSpan OfferLifetime = TimeSpan.FromMinutes(10);

    private const string PendingOfferSql = "SELECT * FROM duty_offers WHERE to_person = @to AND state = 'pending' ORDER BY id DESC LIMIT 1";
    private const string ResolveOfferSql = "UPDATE duty_offers SET state = @state, resolved_at = @at WHERE id = @id";
    private const string HistorySql = "SELECT id, at, person_id, by_nick, kind FROM duty_changes ORDER BY id DESC LIMIT 5";

    public async Task GiveAsync(string nick, Person giver, string targetNick)
    {
        var target = roster.FindByNick(targetNick) ?? roster.FindById(targetNick);
        if (target is null)
        {
            await outbox.SayAsync($"{nick}: '{targetNick}' is not in the roster, so they can't hold duty.");
            return;
        }
        if (target.Id == giver.Id)
        {
            await outbox.SayAsync($"{nick}: you can't give duty to yourself.");
            return;
        }
        var now = time.GetUtcNow();
        var (ok, current) = await db.WriteAsync(async (c, tx) =>
        {
            var holder = (await DutyStore.CurrentAsync(c, tx))?.PersonId;
            if (holder != giver.Id) return (false, holder);
            // One offer at a time: a newer give replaces whatever this person offered before.
            await c.ExecuteAsync("UPDATE duty_offers SET state = 'withdrawn', resolved_at = @at WHERE from_person = @from AND state = 'pending'",
                new { at = UnixMs.From(now), from = giver.Id }, tx);
            await c.ExecuteAsync("""
                INSERT INTO duty_offers(created_at, expires_at, from_person, to_person, by_nick, state)
                VALUES (@at, @expires, @from, @to, @nick, 'pending')
                """, new { at = UnixMs.From(now), expires = UnixMs.From(now + OfferLifetime), from = giver.Id, to = target.Id, nick }, tx);
            return (true, holder);
        });
        if (!ok)
        {
            await outbox.SayAsync(current is null
                ? $"{nick}: nobody is on duty, so there is nothing to give. {target.Name} can say 'lars duty take'."
                : $"{nick}: only the person on duty ({roster.FindById(current)?.Name ?? current}) can give duty away. To take it yourself, say 'lars duty take'.");
            return;
        }
        await outbox.SayAsync($"duty: handing over is discouraged - whoever is on duty should take it on knowingly. " +
                    $"{target.Nicks[0]}: {giver.Name} offers you duty; say 'lars duty accept' within {OfferLifetime.TotalMinutes:0} minutes, or 'lars duty decline'.");
    }

    public async Task AcceptAsync(string nick, Person person)
    {
        var now = time.GetUtcNow();
        var (outcome, offer) = await db.WriteAsync(async (c, tx) =>
        {
            var o = await c.QuerySingleOrDefaultAsync<OfferRow>(PendingOfferSql, new { to = person.Id }, tx);
            if (o is null) return ("none", o);
            if (UnixMs.From(now) >= o.ExpiresAt)
            {
                await c.ExecuteAsync(ResolveOfferSql, new { state = "expired", at = o.ExpiresAt, id = o.Id }, tx);
                return ("expired", o);
            }
            if ((await DutyStore.CurrentAsync(c, tx))?.PersonId != o.FromPerson)
            {
                await c.ExecuteAsync(ResolveOfferSql, new { state = "withdrawn", at = UnixMs.From(now), id = o.Id }, tx);
                return ("stale", o);
            }
            await c.ExecuteAsync(ResolveOfferSql, new { state = "accepted", at = UnixMs.From(now), id = o.Id }, tx);
            await DutyStore.RecordAsync(c, tx, now, person.Id, nick, "give");
            return ("accepted", o);
        });
        var from = offer is null ? null : roster.FindById(offer.FromPerson)?.Name ?? offer.FromPerson;
        switch (outcome)
        {
            case "none":
                await outbox.SayAsync($"{nick}: nobody has offered you duty. To take it anyway, say 'lars duty take'.");
                break;
            case "expired":
                await outbox.SayAsync($"{nick}: {from}'s offer expired at {Local(offer!.ExpiresAt, person)} ({person.TimeZoneId}). Ask again, or say 'lars duty take'.");
                break;
            case "stale":
                await outbox.SayAsync($"{nick}: {from}'s offer no longer stands: duty has changed hands since. Say 'lars duty take' if you mean to take it.");
                break;
            default:
                await outbox.SayAsync($"duty: {person.Name} ({nick}) accepted duty from {from} and is now on duty " +
                            $"({TimeZoneInfo.ConvertTime(now, person.TimeZone).ToString("ddd HH:mm", CultureInfo.InvariantCulture)} in {person.TimeZoneId})");
                wake.Set(); // the topic follows
                break;
        }
    }

    public async Task DeclineAsync(string nick, Person person)
    {
        var now = time.GetUtcNow();
        var offer = await db.WriteAsync(async (c, tx) =>
        {
            var o = await c.QuerySingleOrDefaultAsync<OfferRow>(PendingOfferSql, new { to = person.Id }, tx);
            if (o is null) return null;
            var expired = UnixMs.From(now) >= o.ExpiresAt;
            await c.ExecuteAsync(ResolveOfferSql, new { state = expired ? "expired" : "declined", at = expired ? o.ExpiresAt : UnixMs.From(now), id = o.Id }, tx);
            return expired ? null : o;
        });
        if (offer is null)
        {
            await outbox.SayAsync($"{nick}: there is no duty offer for you to decline.");
            return;
        }
        var from = roster.FindById(offer.FromPerson);
        await outbox.SayAsync($"duty: {person.Name} declined; {from?.Name ?? offer.FromPerson} stays on duty.");
    }

    /// <summary>The last five changes, newest first, in the asker's own time zone.</summary>
    public async Task<IReadOnlyList<string>> HistoryAsync(Person asker)
    {
        var rows = (await db.ReadAsync(async c => await c.QueryAsync<DutyStore.DutyChangeRow>(HistorySql))).ToList();
        if (rows.Count == 0) return ["duty history: nobody has taken duty yet."];
        var lines = new List<string> { $"duty history, last {rows.Count} (times in {asker.TimeZoneId}):" };
        foreach (var r in rows)
        {
            var who = roster.FindById(r.PersonId)?.Name ?? r.PersonId ?? "nobody";
            var what = r.Kind switch
            {
                "take" => $"{who} took duty ({r.ByNick})",
                "give" => $"{who} accepted duty handed over ({r.ByNick})",
                "release" => $"duty released by {r.ByNick}",
                _ => $"{who} on duty ({r.Kind}, {r.ByNick})",
            };
            lines.Add($"  {Local(r.At, asker)} {what}");
        }
        return lines;
    }

    private static string Local(long unixMs, Person p) =>
        TimeZoneInfo.ConvertTime(UnixMs.To(unixMs), p.TimeZone).ToString("ddd d MMM HH:mm", CultureInfo.InvariantCulture);

    internal sealed class OfferRow
    {
        public long Id { get; set; }
        public long CreatedAt { get; set; }
        public long ExpiresAt { get; set; }
        public string FromPerson { get; set; } = "";
        public string ToPerson { get; set; } = "";
        public string ByNick { get; set; } = "";
        public string State { get; set; } = "";
    }
}
