using Dapper;
using Larsbot.Leadership;

namespace Larsbot.Paging;

/// <summary>
/// A new leader's first pass says whom it took over from, how long the old one had been silent, and how much is open:
/// <c>taking over from ops1 (gone 6 s): 2 alerts open</c>. Once per term (leader_terms.announced_at), so a pass that
/// fails says it again next time, and a restart of the same term does not.
/// </summary>
internal sealed class TakeoverModule(Role role) : IEngineModule
{
    internal sealed class TermRow
    {
        public long StartedAt { get; set; }
        public string? Previous { get; set; }
        public long? PreviousSeenAt { get; set; }
    }

    private bool _done;

    public async Task UpdateAsync(Pass p)
    {
        if (_done || !role.Shared) return;
        var term = await p.C.QuerySingleOrDefaultAsync<TermRow>(
            "SELECT started_at, previous, previous_seen_at FROM leader_terms WHERE term = @term AND announced_at IS NULL",
            new { term = role.Term }, p.Tx);
        if (term is { Previous: { } previous })
        {
            var open = await p.C.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM countdowns WHERE state IN ('counting','paged','escalated')", transaction: p.Tx);
            var gone = Math.Max(0, (term.StartedAt - (term.PreviousSeenAt ?? term.StartedAt) + 500) / 1000);
            await p.SayAsync($"taking over from {previous} (gone {gone} s): {open} alert{(open == 1 ? "" : "s")} open");
        }
        if (term is null)
        {
            _done = true; // announced, by a pass that committed
            return;
        }
        await p.C.ExecuteAsync("UPDATE leader_terms SET announced_at = @now WHERE term = @term", new { now = p.NowMs, term = role.Term }, p.Tx);
    }
}
