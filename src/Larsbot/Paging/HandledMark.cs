using Dapper;
using Larsbot.Storage;

namespace Larsbot.Paging;

/// <summary>
/// The engine's high-water mark on SQLite: every alert with an id at or below it is handled. The engine looks for its
/// fresh alerts above it, and so do the few readers that want the unhandled ones (a token's key-scope check, the
/// e-mail digest, the resolve module's "wait until they are handled"). It replaces the index of unhandled alerts that
/// every intake commit and every pass had to write (migration 015; docs/performance-notes.md, tenth session).
/// <para>
/// It is only ever a lower bound, so an older value is correct, only slower to read from. The engine moves it in memory
/// when a pass commits, and intake when a commit of info it recorded itself directly follows it; both under the write
/// gate right after the commit (<see cref="Database.AfterCommit"/>), so the moves happen in commit order. The engine
/// writes it to <c>handled_mark</c> inside a pass at most once a second; a restart reads the row and looks again at
/// everything after it. Two things keep "at or below the mark" meaning "handled":
/// <list type="bullet">
/// <item>SQLite gives a new row the highest id plus one, and the engine reads and marks inside the single writer, so
/// no alert below the mark can arrive after it moved. Alerts are never deleted
/// (<c>ArchitectureTests</c>); were the newest ones removed by hand, their ids would come back, so the mark is read
/// as no higher than the highest id there is.</item>
/// <item>On PostgreSQL ids come from a sequence, and two writers' transactions commit in any order: a lower id can
/// become visible after a higher one was handled. There the mark stays 0 and the partial index of unhandled alerts
/// does the work, as before.</item>
/// </list>
/// </para>
/// </summary>
public sealed class HandledMark(Database db)
{
    private long _id = -1; // -1: not read from the database yet
    private long _persisted = -1;
    private long _persistedAtMs; // Unix ms of the last write (0: none yet)
    private readonly Lock _load = new();

    /// <summary>Every alert with an id at or below this one is handled (0 on PostgreSQL).</summary>
    public long Id => Volatile.Read(ref _id) is var id and >= 0 ? id : Load();

    /// <summary>How far a pass looks past the mark for unhandled alerts at most: alerts recorded at intake (unkeyed
    /// info) are read on the way, and a long run of them is taken in slices rather than in one long hold of the writer.</summary>
    internal const long Window = 4096;

    private long Load()
    {
        lock (_load)
        {
            if (Volatile.Read(ref _id) is var known and >= 0) return known;
            long id = 0;
            if (!db.IsPostgres)
            {
                using var c = db.Open();
                id = c.ExecuteScalar<long?>(
                    "SELECT MIN(alert_id, COALESCE((SELECT MAX(id) FROM alerts), 0)) FROM handled_mark") ?? 0;
            }
            _persisted = id;
            Volatile.Write(ref _id, id);
            return id;
        }
    }

    /// <summary>Whether a pass that moves the mark to <paramref name="upTo"/> at <paramref name="nowMs"/> should write it
    /// down (at most once a second: the row costs a page in the WAL).</summary>
    internal bool ShouldPersist(long upTo, long nowMs) =>
        !db.IsPostgres && upTo > Volatile.Read(ref _persisted) && (nowMs - Volatile.Read(ref _persistedAtMs) >= 1000 || nowMs < Volatile.Read(ref _persistedAtMs));

    /// <summary>
    /// After an intake commit whose alerts <paramref name="first"/> to <paramref name="last"/> (one transaction, so
    /// consecutive ids) were all recorded as they arrived (handled already): if they directly follow the mark, it
    /// moves past them. Otherwise nothing changes, and the engine reads past them on its next pass.
    /// </summary>
    public void Skip(long first, long last)
    {
        if (db.IsPostgres || last < first) return;
        Interlocked.CompareExchange(ref _id, last, first - 1);
    }

    internal const string PersistSql = "UPDATE handled_mark SET alert_id = $upTo";

    /// <summary>After a pass committed: everything up to <paramref name="upTo"/> is handled.</summary>
    internal void Advance(long upTo, bool persisted, long nowMs)
    {
        if (db.IsPostgres) return;
        for (var id = Id; upTo > id; id = Id)
            if (Interlocked.CompareExchange(ref _id, upTo, id) == id) break;
        if (!persisted) return;
        Volatile.Write(ref _persisted, upTo);
        Volatile.Write(ref _persistedAtMs, nowMs);
    }
}
