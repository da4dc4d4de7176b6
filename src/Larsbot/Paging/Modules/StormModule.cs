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

    /// <summary>
    /// A due line's counts of the alerts (<see cref="From"/>, <see cref="To"/>], read before the pass on the engine's
    /// own read connection (<see cref="ReadDue"/>), so intake does not wait while they are counted.
    /// </summary>
    internal sealed record DueCounts(long StormId, long From, long To, List<HostCount> Counts);

    // The open storm as the last pass left it, when it has a grouped line to say: only a hint for ReadDue, which
    // saves reading the row on every pass. The line itself always goes by the row (UpdateAsync checks the range).
    private StormRow? _pending;

    /// <summary>Grouped lines whose counts were read before their pass (for tests: that the path is taken).</summary>
    internal long CountedAhead { get; private set; }

    private const string CountRangeSql =
        $"SELECT {GroupOf} AS grp, host, COUNT(*) AS n FROM alerts WHERE id > $from AND id <= $to AND {Announced} GROUP BY grp, host";

    /// <summary>
    /// Counts a grouped line due now on <paramref name="reader"/>, outside the write: at thousands of alerts a second
    /// a line counts thousands of alerts (5-20 ms), and counted in the pass that held intake up that long every
    /// StormFlushEvery. The alerts in the range are handled and never change again. Null when no line is due.
    /// </summary>
    public DueCounts? ReadDue(PreparedReader reader, long nowMs)
    {
        if (_pending is not { } s || s.Pending <= options.StormThreshold || nowMs < s.FlushAt) return null;
        var counts = reader.Read(CountRangeSql, ["$from", "$to"], cmd => cmd.Rows(static r => r.GetRowParser<HostCount>(), s.SaidThrough, s.LastAlertId));
        return new DueCounts(s.Id, s.SaidThrough, s.LastAlertId, counts);
    }

    private const string OpenSql = "SELECT id, flush_at, quiet_at, said_through, last_alert_id, pending FROM storms WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1";
    private const string Announced = "disposition IN ('announced', 'countdown', 'joined', 'ack_mode')";
    private const string GroupOf = "CASE disposition WHEN 'announced' THEN 'irc' WHEN 'ack_mode' THEN 'URGENT (ack mode, not paging)' ELSE 'URGENT' END";

    /// <summary>
    /// Counts this pass's <paramref name="count"/> announcements (alerts <paramref name="first"/> to <paramref name="last"/>)
    /// into the storm, starting one if they are too many. False: say them one by one.
    /// </summary>
    public async Task<bool> CountAsync(Pass p, int count, long first, long last)
    {
        if (count == 0) return false;
        var s = await p.C.QuerySingleOrDefaultAsync<StormRow>(OpenSql, transaction: p.Tx);
        if (s is not null && s.Pending == 0 && p.NowMs >= s.QuietAt)
        {
            await EndAsync(p, s);
            s = null;
        }
        if (s is null && count <= options.StormThreshold) return false;
        var quietAt = p.NowMs + (long)options.StormQuietAfter.TotalMilliseconds;
        if (s is null)
            await p.C.ExecuteAsync("""
                INSERT INTO storms(started_at, flush_at, quiet_at, said_through, last_alert_id, pending) VALUES (@now, @flush, @quiet, @through, @last, @n)
                """, new { now = p.NowMs, flush = p.NowMs + (long)options.StormFlushEvery.TotalMilliseconds, quiet = quietAt,
                through = first - 1, last, n = count }, p.Tx);
        else
            await p.C.ExecuteAsync("""
                UPDATE storms SET flush_at = CASE WHEN pending = 0 THEN @flush ELSE flush_at END, quiet_at = @quiet,
                                  last_alert_id = CASE WHEN last_alert_id > @last THEN last_alert_id ELSE @last END, pending = pending + @n
                WHERE id = @id
                """, new { id = s.Id, flush = p.NowMs + (long)options.StormFlushEvery.TotalMilliseconds, quiet = quietAt, last, n = count }, p.Tx);
        return true;
    }

    /// <summary>Says what the storm counted once its flush is due.</summary>
    public async Task UpdateAsync(Pass p)
    {
        var s = await p.C.QuerySingleOrDefaultAsync<StormRow>(OpenSql, transaction: p.Tx);
        _pending = null;
        if (s is null) return;
        if (s.Pending == 0)
        {
            if (p.NowMs >= s.QuietAt) await EndAsync(p, s);
            return;
        }
        if (p.NowMs < s.FlushAt)
        {
            p.WakeAt(s.FlushAt);
            _pending = s;
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
            // Counted before the pass where they could be (ReadDue); what came since, in this pass: a pass's worth.
            var pre = p.StormCounts is { } d && d.StormId == s.Id && d.From == s.SaidThrough && d.To <= s.LastAlertId ? d : null;
            if (pre is not null) CountedAhead++;
            var from = pre?.To ?? s.SaidThrough;
            var counts = pre?.Counts ?? [];
            if (from < s.LastAlertId)
                counts = [.. counts, .. p.Db.Statement(p.Tx, CountRangeSql, "$from", "$to").Rows(static r => r.GetRowParser<HostCount>(), from, s.LastAlertId)];
            counts = [.. counts.GroupBy(c => (c.Grp, c.Host)).Select(g => new HostCount { Grp = g.Key.Grp, Host = g.Key.Host, N = g.Sum(c => c.N) })];
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
