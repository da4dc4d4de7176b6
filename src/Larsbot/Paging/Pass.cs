using System.Data;
using Larsbot.Outbox;
using Larsbot.Storage;

namespace Larsbot.Paging;

/// <summary>One step of the engine: a name, and one method run in the pass's transaction over rows only.</summary>
internal interface IEngineModule
{
    Task UpdateAsync(Pass pass);
}

/// <summary>
/// One pass of the engine: one write transaction, the moment it is judged at, and what the modules hand on to each
/// other (the fresh alerts not yet handled). Lines are written to the outbox in the same transaction, in order, so a
/// line decided before a crash is said after the restart and a pass that fails says nothing.
/// </summary>
internal sealed class Pass(Database db, IDbConnection c, IDbTransaction tx, DateTimeOffset now)
{
    public Database Db => db;
    public IDbConnection C => c;
    public IDbTransaction Tx => tx;
    public DateTimeOffset Now => now;
    public long NowMs { get; } = UnixMs.From(now);

    /// <summary>Alerts stored since the last pass and not handled yet; each module takes out what it handled.</summary>
    public List<AlertRow> Fresh { get; set; } = [];

    /// <summary>A storm's grouped line due now, counted before the pass (<see cref="StormModule.ReadDue"/>), or null.</summary>
    public StormModule.DueCounts? StormCounts { get; init; }

    /// <summary>Every alert at or below this id is handled once this pass commits (SQLite; 0 on PostgreSQL):
    /// <see cref="HandledMark"/>.</summary>
    public long HandledUpTo { get; init; }

    /// <summary>SQLite: alerts above <see cref="HandledUpTo"/> may still be unhandled (the next pass reads them).</summary>
    public bool Behind { get; init; }

    /// <summary>IRC has been unreachable for longer than the grace: nobody can type `lars ack`.</summary>
    public bool ChatDown { get; init; }

    /// <summary>Something was written to the outbox: the sender should look now.</summary>
    public bool WroteOutbox { get; private set; }

    private long? _next;

    /// <summary>When the engine next needs to look (null: only when woken).</summary>
    public DateTimeOffset? NextWake => _next is { } n ? UnixMs.To(n) : null;

    public void WakeAt(long ms) => _next = _next is { } n ? Math.Min(n, ms) : ms;

    public void Wrote() => WroteOutbox = true;

    /// <summary>A paging line. One tied to a countdown is purged if the countdown closes first; one with an expiry is dropped once it passes.</summary>
    public async Task SayAsync(string line, long? countdownId = null, DateTimeOffset? expiresAt = null)
    {
        await OutboxStore.SayAsync(c, tx, now, line, LineKind.Paging, countdownId, expiresAt);
        WroteOutbox = true;
    }
}
