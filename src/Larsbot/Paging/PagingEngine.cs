using Dapper;
using Larsbot.Outbox;
using Larsbot.Roster;
using Larsbot.Storage;
using Microsoft.Extensions.Options;

namespace Larsbot.Paging;

/// <summary>
/// The paging engine: a few small stateless modules, each with one job, run in order in one write transaction per
/// pass, over rows only (GoAlert's shape). It decides and writes down; it does no I/O of its own: what the channel
/// hears and who is paged are rows in the outbox, drained by <see cref="OutboxSender"/>. Commands (ack, duty take,
/// shush) write their rows through the store that owns them and wake it. A restart re-derives everything from the
/// file: a countdown resumes where it was, a storm goes on counting, a line decided before a crash is said.
/// </summary>
public sealed class PagingEngine : IDisposable
{
    /// <summary>
    /// A pass holds the writer, and intake commits wait for it: a storm's backlog is taken in slices this size, each
    /// pass a few milliseconds, rather than in one long pass.
    /// </summary>
    internal const int MaxAlertsPerPass = 256;

    private readonly Database _db;
    private readonly PreparedReader _reader;
    private readonly OutboxStore _outbox;
    private readonly ChatPresence _presence;
    private readonly TimeProvider _time;
    private readonly IEngineModule[] _modules;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Leadership.Role _role;
    private long _lastLoopAtMs;
    private long _passes;
    private long _passTicks;
    private long _writerTicks;
    private int _lastPassFresh;

    public PagingEngine(Database db, TeamRoster roster, OutboxStore outbox, ChatPresence presence, EngineWake wake, TimeProvider time,
        IOptions<PagingOptions> options, Leadership.Role? role = null, HandledMark? mark = null, OpenKeys? openKeys = null)
    {
        _role = role ?? Leadership.Role.Sole();
        _db = db;
        Mark = mark ?? new HandledMark(db);
        OpenKeys = db.IsPostgres ? null : openKeys ?? new OpenKeys();
        _reader = new PreparedReader(db);
        _outbox = outbox;
        _presence = presence;
        _time = time;
        Wake = wake;
        Options = options.Value;
        var stillFiring = new StillFiring(roster, Options);
        var storm = Storm = new StormModule(Options);
        _modules =
        [
            new TakeoverModule(_role),               // a new leader says whom it took over from
            new AckModeModule(stillFiring),          // ack mode ends; what is still firing pages again
            new RepeatsModule(stillFiring, Options, OpenKeys), // repeats count up on the original, unless still firing after an ack
            new SilencesModule(),                    // shushed hosts are shown, never paged
            new AnnounceModule(roster, Options, storm), // new alerts: recorded, announced, counted down, or shown in ack mode
            new ResolveModule(roster, Options, OpenKeys), // resolves and tool acks; a fully resolved countdown stops
            storm,                                   // a storm's grouped lines, every StormFlushEvery
            new CountdownModule(roster, Options),    // ticks, the first page, everybody after EscalateAfter
            new TopicModule(roster),                 // the topic follows duty and ack mode
        ];
    }

    /// <summary>The storm module, whose grouped line is counted before the pass (ReadDue).</summary>
    internal StormModule Storm { get; }

    /// <summary>Every alert at or below it is handled: the engine reads its fresh alerts above it, and moves it.</summary>
    public HandledMark Mark { get; }

    /// <summary>SQLite: the open keyed originals by key, which the passes keep (null on PostgreSQL: an index does it).</summary>
    public OpenKeys? OpenKeys { get; }

    /// <summary>Wakes this engine's loop when something arrived (an alert was stored, an ack, duty taken).</summary>
    public EngineWake Wake { get; }

    public PagingOptions Options { get; }

    /// <summary>Passes finished since start: with <see cref="PagingOptions.MinPassGap"/>, far fewer than alerts in a burst.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>Seconds spent in passes since start (on PostgreSQL the read before the write included).</summary>
    public double PassSeconds => System.Diagnostics.Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _passTicks)).TotalSeconds;

    /// <summary>Seconds the passes held the writer since start (on SQLite the read of the fresh alerts included): intake commits wait for it meanwhile.</summary>
    public double WriterSeconds => System.Diagnostics.Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _writerTicks)).TotalSeconds;

    /// <summary>New alerts the last pass handled (at most <see cref="MaxAlertsPerPass"/>): the loop spaces a storm's passes by it.</summary>
    public int LastPassFresh => Volatile.Read(ref _lastPassFresh);

    /// <summary>When the engine last finished a pass (for /health: a stuck engine is an outage).</summary>
    public DateTimeOffset? LastLoopAt => Interlocked.Read(ref _lastLoopAtMs) is var ms and > 0 ? UnixMs.To(ms) : null;

    private static readonly string[] FreshParameters = ["$window", "$after", "$through"];

    /// <summary>Closes the engine's own read connection (the host disposes the engine at shutdown).</summary>
    public void Dispose() => _reader.Dispose();

    /// <summary>Does everything that is due now. Returns when the engine next needs to look (null: only on a wake).</summary>
    public async Task<DateTimeOffset?> RunDueAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var now = _time.GetUtcNow();
            // The alerts this pass handles, read once. On PostgreSQL before taking the write lock: the round trip is
            // the cost there, and intake commits go on meanwhile. On SQLite inside the write, on the writer's own
            // connection: another connection's page cache is dropped whenever someone else commits (WAL), so a reader
            // of its own read every page again from the file on every pass, while the writer's cache stays warm
            // (measured in docs/performance-notes.md: 8-11% more alerts a second at c=16 and 64, c=1 unchanged).
            // What the read relies on (handled_at, duplicate_of, resolved_at, last_seen_at, countdown_id) is written
            // only by this engine, whose passes never overlap; alerts stored after it wait for the next pass.
            // On SQLite only the ids above the handled mark, within its window (HandledMark); on PostgreSQL all.
            var window = (long)Options.DedupWindow.TotalMilliseconds;
            var after = Mark.Id;
            var through = _db.IsPostgres ? long.MaxValue : after + HandledMark.Window;
            List<AlertRow> ReadFresh(System.Data.Common.DbCommand cmd) => cmd.Rows(static r => r.GetRowParser<AlertRow>(), window, after, through);
            var fresh = _db.IsPostgres ? _reader.Read(RepeatsModule.FreshAlertsSql, FreshParameters, ReadFresh) : null;
            // A storm's grouped line due now is counted here, on the read connection, not while holding the writer.
            StormModule.DueCounts? stormCounts = null;
            try
            {
                stormCounts = Storm.ReadDue(_reader, UnixMs.From(now));
            }
            catch (Exception e) when (Database.IsDatabaseFault(e))
            {
                // The pass counts the line itself then.
            }
            long writing = 0;
            var pass = await _db.WriteAsync(async (c, tx) =>
            {
                writing = System.Diagnostics.Stopwatch.GetTimestamp();
                var more = false;
                long handledUpTo = 0;
                if (fresh is null) // SQLite: read inside the write
                {
                    fresh = ReadFresh(_db.Statement(tx, RepeatsModule.FreshAlertsSqliteSql, FreshParameters));
                    OpenKeys!.EnsureLoaded(_db, tx);
                    // Every alert up to here is handled once this pass commits: the ones read, and the ones between
                    // them, handled before (recorded at intake). The highest id is read in this same write, so no
                    // alert at or below it can still arrive.
                    var top = _db.Statement(tx, "SELECT MAX(id) FROM alerts").Long() ?? 0;
                    handledUpTo = fresh.Count >= MaxAlertsPerPass ? fresh[^1].Id : Math.Min(top, through);
                    handledUpTo = Math.Max(handledUpTo, after);
                    more = top > handledUpTo; // a full slice, or a window that did not reach the newest alert
                    var atMs = UnixMs.From(now);
                    var persist = Mark.ShouldPersist(handledUpTo, atMs);
                    if (persist) _db.Statement(tx, HandledMark.PersistSql, "$upTo").Run(handledUpTo);
                    // Moved once this commits, before the next write: in commit order with intake's moves.
                    _db.AfterCommit(tx, () => Mark.Advance(handledUpTo, persist, atMs));
                }
                await _role.FenceAsync(c, tx); // only the leader's engine writes, and only while its lease holds
                var (down, downAt) = await _presence.DownAsync(c, tx, UnixMs.From(now));
                var p = new Pass(_db, c, tx, now) { Fresh = fresh, ChatDown = down, StormCounts = stormCounts, HandledUpTo = handledUpTo, Behind = more };
                if (downAt is { } at) p.WakeAt(at);
                foreach (var module in _modules) await module.UpdateAsync(p);
                // A full slice may have left more behind, or a window that did not reach the newest alert; look again at once.
                if (fresh.Count >= MaxAlertsPerPass || more) p.WakeAt(p.NowMs);
                return p;
            }, ct);
            var done = System.Diagnostics.Stopwatch.GetTimestamp();
            Interlocked.Add(ref _writerTicks, done - writing);
            Interlocked.Add(ref _passTicks, done - started);
            if (pass.WroteOutbox) _outbox.Wake.Set();
            Volatile.Write(ref _lastPassFresh, fresh!.Count); // pass.Fresh is emptied as modules take its alerts
            Interlocked.Exchange(ref _lastLoopAtMs, UnixMs.From(now));
            Interlocked.Increment(ref _passes);
            return pass.NextWake;
        }
        catch
        {
            // What a failed pass added to the open keys may not be in the file: the next pass loads them from it again.
            OpenKeys?.Invalidate();
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }
}
