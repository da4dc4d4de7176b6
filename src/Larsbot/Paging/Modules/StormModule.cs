using Dapper;
using Larsbot.Storage;

namespace Larsbot.Paging;

/// <summary>
/// A few alerts get a line each. A storm (more than StormThreshold at once, or more while one is going on) is counted
/// per host and said as one grouped line per kind every StormFlushEvery, so 10,000 alerts from 500 hosts stay a
/// handful of readable lines that never trip the server's flood limit. The storm is a row; what it counts is derived
/// from the alerts announced since it last spoke, so a restart picks it up where it was.
/// </summary>
internal sealed class StormModule(PagingOptions options) : IEngineModule
{
    internal sealed class StormRow
    {
        public long Id { get; set; }
        public long FlushAt { get; set; }
        public long QuietAt { get; set; }
        public long SaidThrough { get; set; }
        public long LastAlertId { get; set; }
        public long Pending { get; set; }
    }

    internal sealed class HostCount
    {
        public string Grp { get; set; } = "";
        public string Host { get; set; } = "";
        public long N { get; set; }
    }

    private const string OpenSql = "SELECT id, flush_at, quiet_at, said_through, last_alert_id, pending FROM storms WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1";
    private const string Announced = "disposition IN ('announced', 'countdown', 'joined', 'ack_mode')";
    private const string GroupOf = "CASE disposition WHEN 'announced' THEN 'irc' WHEN 'ack_mode' THEN 'URGENT (ack mode, not paging)' ELSE 'URGENT' END";

    /// <summary>Counts this pass's announcements into the storm, starting one if they are too many. False: say them one by one.</summary>
    public async Task<bool> CountAsync(Pass p, IReadOnlyList<(long Id, string Line)> announce)
    {
        if (announce.Count == 0) return false;
        var s = await p.C.QuerySingleOrDefaultAsync<StormRow>(OpenSql, transaction: p.Tx);
        if (s is not null && s.Pending == 0 && p.NowMs >= s.QuietAt)
        {
            await EndAsync(p, s);
            s = null;
        }
        if (s is null && announce.Count <= options.StormThreshold) return false;
        var quietAt = p.NowMs + (long)options.StormQuietAfter.TotalMilliseconds;
        var last = announce.Max(a => a.Id);
        if (s is null)
            await p.C.ExecuteAsync("""
                INSERT INTO storms(started_at, flush_at, quiet_at, said_through, last_alert_id, pending) VALUES (@now, @flush, @quiet, @through, @last, @n)
                """, new { now = p.NowMs, flush = p.NowMs + (long)options.StormFlushEvery.TotalMilliseconds, quiet = quietAt,
                through = announce.Min(a => a.Id) - 1, last, n = announce.Count }, p.Tx);
        else
            await p.C.ExecuteAsync("""
                UPDATE storms SET flush_at = CASE WHEN pending = 0 THEN @flush ELSE flush_at END, quiet_at = @quiet,
                                  last_alert_id = CASE WHEN last_alert_id > @last THEN last_alert_id ELSE @last END, pending = pending + @n
                WHERE id = @id
                """, new { id = s.Id, flush = p.NowMs + (long)options.StormFlushEvery.TotalMilliseconds, quiet = quietAt, last, n = announce.Count }, p.Tx);
        return true;
    }

    /// <summary>Says what the storm counted once its flush is due.</summary>
    public async Task UpdateAsync(Pass p)
    {
        var s = await p.C.QuerySingleOrDefaultAsync<StormRow>(OpenSql, transaction: p.Tx);
        if (s is null) return;
        if (s.Pending == 0)
        {
            if (p.NowMs >= s.QuietAt) await EndAsync(p, s);
            return;
        }
        if (p.NowMs < s.FlushAt)
        {
            p.WakeAt(s.FlushAt);
            return;
        }
        var range = new { from = s.SaidThrough, to = s.LastAlertId };
        if (s.Pending <= options.StormThreshold)
        {
            // The tail of a storm: a few alerts read better as themselves than as counts.
            foreach (var a in await p.C.QueryAsync<AlertRow>($"SELECT * FROM alerts WHERE id > @from AND id <= @to AND {Announced} ORDER BY id", range, p.Tx))
                await p.SayAsync(AnnounceModule.LineOf(a, a.Disposition!));
        }
        else
        {
            var counts = (await p.C.QueryAsync<HostCount>(
                $"SELECT {GroupOf} AS grp, host, COUNT(*) AS n FROM alerts WHERE id > @from AND id <= @to AND {Announced} GROUP BY grp, host", range, p.Tx)).ToList();
            foreach (var group in counts.GroupBy(c => c.Grp).OrderBy(g => g.Key == "URGENT" ? 0 : g.Key == "irc" ? 2 : 1))
                await p.SayAsync(GroupedLine(group.Key, group.Select(g => (g.Host, g.N)).ToList()));
        }
        await p.C.ExecuteAsync("UPDATE storms SET said_through = last_alert_id, pending = 0 WHERE id = @id", new { id = s.Id }, p.Tx);
    }

    private static Task EndAsync(Pass p, StormRow s) =>
        p.C.ExecuteAsync("UPDATE storms SET ended_at = @now WHERE id = @id", new { now = p.NowMs, id = s.Id }, p.Tx);

    /// <summary>"URGENT 37 alerts from 12 hosts: gateway2 (5), db1 (3), ... (+9 more hosts)".</summary>
    private static string GroupedLine(string group, List<(string Host, long N)> hosts)
    {
        var total = hosts.Sum(h => h.N);
        var kind = group.StartsWith("URGENT") ? "URGENT" : group;
        var suffix = group.Length > kind.Length ? group[kind.Length..] : "";
        var top = hosts.OrderByDescending(h => h.N).ThenBy(h => h.Host, StringComparer.Ordinal).ToList();
        var line = $"{kind} {total} alerts from {hosts.Count} hosts{suffix}:";
        var shown = 0;
        foreach (var (host, n) in top)
        {
            var part = $" {host} ({n}),";
            if (line.Length + part.Length > 300) break;
            line += part;
            shown++;
        }
        return line.TrimEnd(',') + (shown < top.Count ? $" (+{top.Count - shown} more hosts)" : "");
    }
}
