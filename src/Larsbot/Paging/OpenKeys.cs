using System.Data;
using Larsbot.Storage;

namespace Larsbot.Paging;

/// <summary>
/// SQLite only: the open keyed originals (keyed alerts handled, not resolved, not a repeat) by key, in memory, where a
/// pass looks up what a fresh alert repeats and what a resolve names. It replaces the index on dedup_key: its keys are
/// fingerprints, so every new alert put an entry on a random page of it, and that page went into the WAL and later
/// into the file (a storm of new alerts ran about 30% faster at c=16 and 64 without it: docs/performance-notes.md, the
/// thirteenth session). The file stays the truth:
/// <list type="bullet">
/// <item>Loaded from the file in the first pass (after a start, or after a pass failed), from the partial index of open
/// keyed alerts by id (migration 016), whose entries are appended in id order.</item>
/// <item>A candidate is only a candidate: the pass reads its row before using it (still open, this key), so an entry
/// left behind costs a lookup, never a wrong answer.</item>
/// <item>Every keyed alert that becomes an open original is added by the pass that handles it (in this process the
/// engine is the only writer of a keyed alert's handled_at, and nothing sets resolved_at or duplicate_of back to NULL),
/// so none is missing.</item>
/// <item>A pass that fails drops it all: the next one loads it again, as it does when another connection has written
/// the file since (<see cref="EnsureLoaded"/>). A resolve takes its alert out once it commits.</item>
/// </list>
/// At most one open original per key and loudness (a later alert as loud is its repeat), so an entry is three ids; a
/// file from before that rule may hold more, kept beside them (<see cref="_extras"/>).
/// On PostgreSQL, where a standby's alerts and another leader's passes write the same rows, the index on dedup_key
/// stays and none of this is used.
/// </summary>
public sealed class OpenKeys
{
    internal const string LoadSql =
        "SELECT id, dedup_key, level FROM alerts WHERE dedup_key IS NOT NULL AND handled_at IS NOT NULL AND resolved_at IS NULL AND duplicate_of IS NULL ORDER BY id";

    /// <summary>
    /// The keys are spread over this many dictionaries by a randomised hash of the key (an outsider cannot aim at one).
    /// A dictionary grows by copying all it holds into one twice its size, in the pass that adds the entry past its
    /// capacity, while that pass holds the writer: one dictionary of 700,000 open keys took about 100 ms to grow, and
    /// every intake commit waited for it (docs/performance-notes.md, the seventeenth session). Spread out, each part is
    /// a 256th of that, and the parts fill at slightly different moments, so their growing spreads over many passes.
    /// </summary>
    internal const int Parts = 256;

    private readonly Lock _lock = new();
    private Dictionary<string, Ids>[]? _byKey;
    private Dictionary<string, List<(long Id, int Loudness)>> _extras = new(StringComparer.Ordinal);
    private (IDbConnection?, long?) _loadedAt; // the writer connection and its data_version when loaded

    /// <summary>The open originals of one key: the newest of each loudness (info 0, irc 1, urgent 2), 0 when none.</summary>
    private struct Ids
    {
        public long Info, Irc, Urgent;

        public long this[int loudness]
        {
            readonly get => loudness switch { 2 => Urgent, 1 => Irc, _ => Info };
            set
            {
                if (loudness == 2) Urgent = value;
                else if (loudness == 1) Irc = value;
                else Info = value;
            }
        }

        public readonly bool IsEmpty => Info == 0 && Irc == 0 && Urgent == 0;
    }

    public static int Loudness(string level) => level switch { "urgent" => 2, "irc" => 1, _ => 0 };

    /// <summary>Whether it is loaded (intake's key-scope check reads the file instead while it is not).</summary>
    public bool Loaded
    {
        get { lock (_lock) return _byKey is not null; }
    }

    /// <summary>Times it was read from the file (for tests: once, unless a pass failed or another connection wrote).</summary>
    internal int Loads { get; private set; }

    /// <summary>How many keys each part holds (for tests).</summary>
    internal int[] PartSizes
    {
        get { lock (_lock) return _byKey?.Select(d => d.Count).ToArray() ?? []; }
    }

    /// <summary>How many keys it holds (for tests).</summary>
    public int Count
    {
        get { lock (_lock) return _byKey?.Sum(d => d.Count) ?? 0; }
    }

    /// <summary>
    /// Loads it from the file unless it is loaded and nobody else has written the file since: inside the pass's write,
    /// on the writer's connection. Every write of this process goes through that connection, whose data_version moves
    /// only when another connection commits: another process on the same file (two bots by mistake, `larsbot payout`,
    /// an operator's sqlite3) may have handled or reopened alerts this one never saw. The checkpointer's PASSIVE
    /// checkpoints do not move it. A new writer connection (after a fault) counts as someone else.
    /// </summary>
    internal void EnsureLoaded(Database db, IDbTransaction tx)
    {
        var version = (tx.Connection, db.Statement(tx, "PRAGMA data_version").Long());
        lock (_lock)
            if (_byKey is not null && version == _loadedAt) return;
        var byKey = new Dictionary<string, Ids>[Parts];
        for (var i = 0; i < Parts; i++) byKey[i] = new Dictionary<string, Ids>(StringComparer.Ordinal);
        var extras = new Dictionary<string, List<(long Id, int Loudness)>>(StringComparer.Ordinal);
        using (var r = db.Statement(tx, LoadSql).ExecuteReader()) // the writer's cached statement: only the reader is ours
            while (r.Read())
                Put(byKey, extras, r.GetString(1), r.GetInt64(0), Loudness(r.GetString(2))); // in id order: the newest stays in the entry
        lock (_lock) (_byKey, _extras, _loadedAt) = (byKey, extras, version);
        Loads++;
    }

    /// <summary>Forgets everything: a pass failed, and what it added may not be in the file.</summary>
    internal void Invalidate()
    {
        lock (_lock) _byKey = null;
    }

    /// <summary>A keyed alert this pass handles as an original (its row is marked in the same write).</summary>
    internal void Add(string key, long id, string level)
    {
        lock (_lock)
        {
            if (_byKey is not null) Put(_byKey, _extras, key, id, Loudness(level));
        }
    }

    /// <summary>
    /// Makes <paramref name="id"/> the key's newest of its loudness; one it displaces goes beside it, never lost (at load,
    /// an older original from before the loudness rule; while running, not expected: one as loud would have made the
    /// new alert its repeat).
    /// </summary>
    private static void Put(Dictionary<string, Ids>[] parts, Dictionary<string, List<(long Id, int Loudness)>> extras, string key, long id, int loudness)
    {
        var byKey = PartOf(parts, key);
        byKey.TryGetValue(key, out var ids);
        if (ids[loudness] is var before and not 0) (extras.TryGetValue(key, out var more) ? more : extras[key] = []).Add((before, loudness));
        ids[loudness] = id;
        byKey[key] = ids;
    }

    /// <summary>Takes out an alert that is no longer an open original (call it once that has committed).</summary>
    internal void Remove(string key, long id)
    {
        lock (_lock)
        {
            if (_byKey is null) return;
            var byKey = PartOf(_byKey, key);
            if (byKey.TryGetValue(key, out var ids))
            {
                for (var l = 0; l <= 2; l++)
                    if (ids[l] == id) ids[l] = 0;
                if (ids.IsEmpty) byKey.Remove(key);
                else byKey[key] = ids;
            }
            if (_extras.TryGetValue(key, out var more) && more.RemoveAll(e => e.Id == id) > 0 && more.Count == 0) _extras.Remove(key);
        }
    }

    /// <summary>
    /// The ids that may be open originals of this key at least this loud, newest first; null when not loaded (then the
    /// file must be asked).
    /// </summary>
    public long[]? Candidates(string key, int atLeast = 0)
    {
        lock (_lock)
        {
            if (_byKey is null) return null;
            var found = new List<long>(3);
            if (PartOf(_byKey, key).TryGetValue(key, out var ids))
                for (var l = Math.Max(atLeast, 0); l <= 2; l++)
                    if (ids[l] != 0) found.Add(ids[l]);
            if (_extras.TryGetValue(key, out var more))
                found.AddRange(more.Where(e => e.Loudness >= atLeast).Select(e => e.Id));
            found.Sort((a, b) => b.CompareTo(a));
            return [.. found];
        }
    }

    private static Dictionary<string, Ids> PartOf(Dictionary<string, Ids>[] parts, string key) =>
        parts[(uint)string.GetHashCode(key.AsSpan()) % Parts];
}
