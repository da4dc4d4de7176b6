using System.Data;
using System.Globalization;
using Dapper;
using Larsbot.Roster;
using Larsbot.Storage;
using static Larsbot.Text.Wording;

namespace Larsbot.Paging;

/// <summary>Silences: alerts for a silenced host are recorded and shown, never paged. Applied before announcement.</summary>
internal sealed class SilencesModule : IEngineModule
{
    internal sealed class SilenceRow
    {
        public long Id { get; set; }
        public long EndsAt { get; set; }
        public string Pattern { get; set; } = "";
        public string? Reason { get; set; }
        public string Nick { get; set; } = "";
    }

    private const string ActiveSilencesSql = "SELECT * FROM silences WHERE ended_at IS NULL AND ends_at > $now ORDER BY id";

    public static Task<IEnumerable<SilenceRow>> ActiveAsync(IDbConnection c, IDbTransaction? tx, long nowMs) =>
        c.QueryAsync<SilenceRow>("SELECT * FROM silences WHERE ended_at IS NULL AND ends_at > @now ORDER BY id", new { now = nowMs }, tx);

    /// <summary>Leaves in <see cref="Pass.Fresh"/> the alerts that are not silenced.</summary>
    public async Task UpdateAsync(Pass p)
    {
        var (c, tx, now, nowMs, fresh) = (p.C, p.Tx, p.Now, p.NowMs, p.Fresh);
        if (fresh.Count == 0) return;
        var silences = p.Db.Statement(tx, ActiveSilencesSql, "$now").Rows(static r => r.GetRowParser<SilenceRow>(), nowMs);
        if (silences.Count == 0) return;
        var rest = new List<AlertRow>(fresh.Count);
        foreach (var a in fresh)
        {
            var s = silences.FirstOrDefault(s => Wildcard.IsMatch(s.Pattern, a.Host));
            if (s is null)
            {
                rest.Add(a);
                continue;
            }
            if (a.Level != "info")
                await p.SayAsync($"silenced {a.Level} {a.Host} - {a.Message} (shush #{s.Id} by {s.Nick}, {Duration(UnixMs.To(s.EndsAt) - now)} left)");
            await c.ExecuteAsync("UPDATE alerts SET handled_at = @now, disposition = 'silenced' WHERE id = @id", new { now = nowMs, id = a.Id }, tx);
        }
        p.Fresh = rest;
    }
}
