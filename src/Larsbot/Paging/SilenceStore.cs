using System.Data;
using System.Globalization;
using Dapper;
using Larsbot.Roster;
using Larsbot.Storage;
using static Larsbot.Text.Wording;

namespace Larsbot.Paging;

/// <summary>`lars shush` and `lars unshush`: rows in silences, which <see cref="SilencesModule"/> applies to new alerts.</summary>
public sealed class SilenceStore(Database db, TimeProvider time)
{
    /// <summary>Longest a silence may run: a forgotten shush must not hide a host for good.</summary>
    public static readonly TimeSpan MaxSilence = TimeSpan.FromDays(7);

    /// <summary>How many recent alerts' hosts make up the "known hosts" a shush pattern is checked against.</summary>
    public const int KnownHostsFromLastAlerts = 10_000;

    /// <summary>
    /// The known hosts: those of the last <see cref="KnownHostsFromLastAlerts"/> alerts (newest first by id, so a
    /// bounded read without an index), in name order. A shush matching every one of them would hide everything.
    /// </summary>
    public Task<List<string>> KnownHostsAsync() => db.ReadAsync(async c => (await c.QueryAsync<string>(
        "SELECT DISTINCT host FROM (SELECT host FROM alerts ORDER BY id DESC LIMIT @n) AS recent ORDER BY host",
        new { n = KnownHostsFromLastAlerts })).ToList());

    /// <summary>`lars shush db* 2h maintenance`: returns the line to say.</summary>
    public async Task<string> ShushAsync(string nick, Person person, string pattern, TimeSpan duration, string? reason, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var id = await db.WriteAsync((c, tx) => c.ExecuteScalarAsync<long>(
            "INSERT INTO silences(created_at, ends_at, pattern, reason, person_id, nick) VALUES (@at, @ends, @pattern, @reason, @pid, @nick) RETURNING id",
            new { at = UnixMs.From(now), ends = UnixMs.From(now + duration), pattern, reason, pid = person.Id, nick }, tx), ct);
        var ends = now + duration;
        return $"shush #{id}: alerts for '{pattern}' are shown but never page until {ends.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC ({Duration(duration)})" +
               (reason is null ? "" : $": {reason}") + $". 'lars unshush {id}' ends it.";
    }

    /// <summary>`lars unshush 3`.</summary>
    public async Task<string> UnshushAsync(string nick, long id, CancellationToken ct = default)
    {
        var nowMs = UnixMs.From(time.GetUtcNow());
        var row = await db.WriteAsync(async (c, tx) =>
        {
            var s = await c.QuerySingleOrDefaultAsync<SilencesModule.SilenceRow>("SELECT * FROM silences WHERE id = @id AND ended_at IS NULL AND ends_at > @now", new { id, now = nowMs }, tx);
            if (s is not null) await c.ExecuteAsync("UPDATE silences SET ended_at = @now, ended_by = @nick WHERE id = @id", new { now = nowMs, nick, id }, tx);
            return s;
        }, ct);
        return row is null ? $"{nick}: there is no active shush #{id}" : $"unshush: #{id} ('{row.Pattern}') ended by {nick}; its alerts page again";
    }

    public static async Task AddStatusAsync(IDbConnection c, DateTimeOffset now, List<string> lines)
    {
        foreach (var s in await SilencesModule.ActiveAsync(c, null, UnixMs.From(now)))
            lines.Add($"status: shush #{s.Id} '{s.Pattern}' by {s.Nick}, {Duration(UnixMs.To(s.EndsAt) - now)} left" + (s.Reason is null ? "" : $": {s.Reason}"));
    }
}
