using System.Data;
using System.Reflection;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Larsbot.Storage;

/// <summary>
/// The SQLite file. Writes go through one gate and one long-lived writer connection, so the bot never spins on
/// SQLITE_BUSY (pooled connections racing for the write lock showed 200-300 ms p99 stalls) and never pays for an
/// open per write; readers use pooled connections of their own, which WAL lets run alongside.
/// </summary>
public sealed class Database : IDisposable
{
    private readonly string _connectionString;
    private readonly string _synchronous;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private SqliteConnection? _writer;
    private readonly StatementCache _statements = new();

    /// <param name="synchronous">
    /// NORMAL (default): in WAL mode a commit survives a process crash (kill -9); power loss can cost the last commits.
    /// FULL: fsync on every commit, so a 202 survives power loss too, at a throughput cost (see docs/benchmarks.md).
    /// </param>
    public Database(string path, string synchronous = "NORMAL")
    {
        _synchronous = synchronous.ToUpperInvariant() switch
        {
            "NORMAL" => "NORMAL",
            "FULL" => "FULL",
            _ => throw new ArgumentException($"Database:Synchronous must be NORMAL or FULL, not '{synchronous}'"),
        };
        Path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 10,
        }.ToString();
    }

    public string Path { get; }

    /// <summary>
    /// The writer connection checkpoints by itself once the WAL holds this many pages (SQLite's default is 1,000).
    /// Raised when <see cref="WalCheckpointer"/> does the work off the commit path.
    /// </summary>
    public int WriterCheckpointPages { get; init; } = 1000;

    public SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        // synchronous=NORMAL in WAL survives a process crash (kill -9); only power loss can cost the last commits.
        c.Execute($"PRAGMA journal_mode=WAL; PRAGMA synchronous={_synchronous}; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;");
        return c;
    }

    private SqliteConnection OpenWriter()
    {
        var c = Open();
        c.Execute($"PRAGMA wal_autocheckpoint={WriterCheckpointPages}");
        return c;
    }

    private int _writeFailures;

    /// <summary>Writes that failed since start: /health probes again at once when this moves, whatever its cache.</summary>
    public int WriteFailures => Volatile.Read(ref _writeFailures);

    public async Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> work)
    {
        await using var c = Open();
        return await work(c);
    }

    /// <summary>Runs <paramref name="work"/> in one IMMEDIATE transaction; nothing is visible unless it all commits.</summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, IDbTransaction, Task<T>> work, CancellationToken ct = default)
    {
        await _writeGate.WaitAsync(ct);
        try
        {
            _writer ??= OpenWriter();
            try
            {
                await using var tx = (SqliteTransaction)await _writer.BeginTransactionAsync(IsolationLevel.Serializable, ct);
                var result = await work(_writer, tx);
                await tx.CommitAsync(CancellationToken.None);
                return result;
            }
            catch (Exception e) when (e is SqliteException or IOException or InvalidOperationException)
            {
                // A disk fault can leave the connection unusable: start the next write on a fresh one.
                Interlocked.Increment(ref _writeFailures);
                DropWriter();
                throw;
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one IMMEDIATE transaction on the calling thread, but only if no other write is
    /// running or waiting; false (nothing done) otherwise. Lets a lone intake commit without a hop between threads.
    /// </summary>
    public bool TryWriteNow<T>(Func<SqliteConnection, SqliteTransaction, T> work, out T result)
    {
        // Wait(0) never overtakes a queued WriteAsync: SemaphoreSlim hands a release to waiting callers first.
        if (!_writeGate.Wait(0))
        {
            result = default!;
            return false;
        }
        try
        {
            _writer ??= OpenWriter();
            try
            {
                using var tx = _writer.BeginTransaction(IsolationLevel.Serializable);
                result = work(_writer, tx);
                tx.Commit();
                return true;
            }
            catch (Exception e) when (e is SqliteException or IOException or InvalidOperationException)
            {
                Interlocked.Increment(ref _writeFailures);
                DropWriter();
                throw;
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public Task WriteAsync(Func<SqliteConnection, IDbTransaction, Task> work, CancellationToken ct = default) =>
        WriteAsync<bool>(async (c, tx) => { await work(c, tx); return true; }, ct);

    /// <summary>Applies the numbered scripts in Storage/Migrations that this file has not seen yet, each in its own transaction.</summary>
    public void Migrate()
    {
        var dir = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var c = Open();
        c.Execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (datetime('now')))");
        var applied = c.Query<long>("SELECT version FROM schema_migrations").ToHashSet();
        foreach (var (version, name, sql) in Scripts())
        {
            if (applied.Contains(version)) continue;
            using var tx = c.BeginTransaction();
            c.Execute(sql, transaction: tx);
            c.Execute("INSERT INTO schema_migrations(version, name) VALUES (@version, @name)", new { version, name }, tx);
            tx.Commit();
        }
    }

    /// <summary>True when a write can be committed right now (used by /health).</summary>
    public async Task<bool> CanWriteAsync()
    {
        try
        {
            await WriteAsync(async (c, tx) => await c.ExecuteAsync("INSERT INTO health_probe(id, at) VALUES (1, 0) ON CONFLICT(id) DO UPDATE SET at = at + 1", transaction: tx));
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        DropWriter();
    }

    private void DropWriter()
    {
        _statements.Clear();
        _writer?.Dispose();
        _writer = null;
    }

    /// <summary>
    /// A statement prepared once per writer connection (<see cref="StatementCache"/>). Only inside <see cref="WriteAsync{T}"/> or
    /// <see cref="TryWriteNow{T}"/> (the writer is single-threaded there); bind by position, in
    /// <paramref name="parameterNames"/> order.
    /// </summary>
    public SqliteCommand Statement(IDbTransaction tx, string sql, params string[] parameterNames)
    {
        if (_writer is null || !ReferenceEquals(tx.Connection, _writer))
            throw new InvalidOperationException("Database.Statement is for the writer, inside a write");
        return _statements.Get(_writer, (SqliteTransaction)tx, sql, parameterNames);
    }

    private static IEnumerable<(long Version, string Name, string Sql)> Scripts()
    {
        var asm = Assembly.GetExecutingAssembly();
        foreach (var res in asm.GetManifestResourceNames().Where(n => n.Contains(".Storage.Migrations.") && n.EndsWith(".sql")).Order())
        {
            var file = res[(res.IndexOf(".Migrations.", StringComparison.Ordinal) + ".Migrations.".Length)..];
            var version = long.Parse(file[..file.IndexOf('_')]);
            using var reader = new StreamReader(asm.GetManifestResourceStream(res)!);
            yield return (version, file, reader.ReadToEnd());
        }
    }
}
