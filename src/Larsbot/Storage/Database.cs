using System.Data;
using System.Data.Common;
using System.Reflection;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Larsbot.Storage;

/// <summary>
/// The source of truth: a SQLite file (the default) or a PostgreSQL database that several instances share
/// (Database:Provider=postgres). Writes go through one gate and one long-lived writer connection, so the bot never
/// spins on SQLITE_BUSY (pooled connections racing for the write lock showed 200-300 ms p99 stalls) and never pays for
/// an open per write; readers use pooled connections of their own, which WAL lets run alongside. On PostgreSQL every
/// write transaction first takes one transaction-level advisory lock, so writes from all instances are serialised
/// exactly as SQLite's single writer serialises them: the code's read-then-write steps (dedup, joins, claims) keep
/// their meaning with two instances.
/// </summary>
public sealed class Database : IDisposable
{
    /// <summary>The PostgreSQL channel a standby's commits are announced on, so the leader looks at once.</summary>
    public const string WakeChannel = "larsbot_wake";

    /// <summary>The advisory lock key every PostgreSQL write transaction takes (pg_advisory_xact_lock): "LARS" in ASCII.</summary>
    public const long WriteLockKey = 0x4C415253;

    private readonly string _connectionString;
    private readonly string _synchronous;
    private readonly NpgsqlDataSource? _postgres;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private DbConnection? _writer;
    private readonly StatementCache _statements;

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
        _statements = new StatementCache(postgres: false);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 10,
        }.ToString();
    }

    /// <summary>A PostgreSQL database (Npgsql connection string); its schema is Storage/PostgresMigrations.</summary>
    private Database(NpgsqlDataSource dataSource, string description)
    {
        _postgres = dataSource;
        _connectionString = "";
        _synchronous = "FULL";
        Path = "";
        Description = description;
        _statements = new StatementCache(postgres: true);
    }

    public static Database Postgres(string connectionString)
    {
        NpgsqlConnectionStringBuilder b;
        try
        {
            b = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Database:ConnectionString is not a valid PostgreSQL connection string: {e.Message}");
        }
        if (string.IsNullOrWhiteSpace(b.Host)) throw new ArgumentException("Database:ConnectionString needs Host=...");
        // Statements that run once per alert or per pass are prepared by Npgsql after their second use.
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase)) b.MaxAutoPrepare = 64;
        if (!connectionString.Contains("Timeout", StringComparison.OrdinalIgnoreCase)) b.Timeout = 5;
        b.ApplicationName ??= "larsbot";
        // A client that vanishes without a FIN (a partition) must not keep its transaction, and with it the write
        // lock every instance takes, for as long as TCP keepalives allow: the server ends such a session after 5 s,
        // about when a standby may take the lease.
        if (string.IsNullOrEmpty(b.Options)) b.Options = "-c idle_in_transaction_session_timeout=5000 -c tcp_user_timeout=5000";
        // The bot sets no session state on pooled connections: skip the reset round trip every pooled read paid.
        if (!connectionString.Contains("Reset On Close", StringComparison.OrdinalIgnoreCase)) b.NoResetOnClose = true;
        var description = $"PostgreSQL {b.Host}:{b.Port}/{b.Database}";
        // The slim builder keeps the native executable small; TLS (SSL Mode=Require, a managed database) must be asked for.
        return new Database(new NpgsqlSlimDataSourceBuilder(b.ConnectionString).EnableTransportSecurity().Build(), description);
    }

    /// <summary>The SQLite file's full path; empty on PostgreSQL.</summary>
    public string Path { get; }

    public bool IsPostgres => _postgres is not null;

    /// <summary>What /health and error messages call this database (never a password).</summary>
    public string Description { get => field ?? Path; private init; }

    /// <summary>
    /// The writer connection checkpoints by itself once the WAL holds this many pages (SQLite's default is 1,000).
    /// Raised when <see cref="WalCheckpointer"/> does the work off the commit path.
    /// </summary>
    public int WriterCheckpointPages { get; init; } = 1000;

    public DbConnection Open()
    {
        if (_postgres is not null) return _postgres.OpenConnection();
        var c = new SqliteConnection(_connectionString);
        c.Open();
        // synchronous=NORMAL in WAL survives a process crash (kill -9); only power loss can cost the last commits.
        c.Execute($"PRAGMA journal_mode=WAL; PRAGMA synchronous={_synchronous}; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;");
        return c;
    }

    private DbConnection OpenWriter()
    {
        var c = Open();
        if (_postgres is null) c.Execute($"PRAGMA wal_autocheckpoint={WriterCheckpointPages}");
        return c;
    }

    /// <summary>On PostgreSQL, waits for the one write lock all instances share, for the rest of <paramref name="tx"/>.</summary>
    private void TakeWriteLock(DbTransaction tx)
    {
        if (_postgres is null) return;
        using var cmd = tx.Connection!.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT pg_advisory_xact_lock(" + WriteLockKey + ")";
        cmd.ExecuteNonQuery();
    }

    private async Task TakeWriteLockAsync(DbTransaction tx, CancellationToken ct)
    {
        if (_postgres is null) return;
        await using var cmd = tx.Connection!.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT pg_advisory_xact_lock(" + WriteLockKey + ")";
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// PostgreSQL, while this instance is a standby: its name. Each write then ends with NOTIFY larsbot_wake (sent at
    /// commit), which wakes the leader's engine and sender: an alert taken here is announced as fast as one taken there.
    /// </summary>
    public string? NotifyAs { get; set; }

    private void NotifyOthers(DbTransaction tx)
    {
        if (_postgres is null || NotifyAs is not { } who) return;
        using var cmd = tx.Connection!.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT pg_notify('" + WakeChannel + "', @who)";
        var p = cmd.CreateParameter();
        p.ParameterName = "who";
        p.Value = who;
        cmd.Parameters.Add(p);
        cmd.ExecuteNonQuery();
    }

    /// <summary>The errors that mean the database (not the caller) failed: the writer is dropped and opened afresh.</summary>
    public static bool IsDatabaseFault(Exception e) => e is DbException or IOException or InvalidOperationException or TimeoutException;

    private int _writeFailures;

    /// <summary>Writes that failed since start: /health probes again at once when this moves, whatever its cache.</summary>
    public int WriteFailures => Volatile.Read(ref _writeFailures);

    public async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work)
    {
        await using var c = Open();
        return await work(c);
    }

    /// <summary>Runs <paramref name="work"/> in one IMMEDIATE transaction; nothing is visible unless it all commits.</summary>
    public async Task<T> WriteAsync<T>(Func<DbConnection, IDbTransaction, Task<T>> work, CancellationToken ct = default)
    {
        await _writeGate.WaitAsync(ct);
        try
        {
            _writer ??= OpenWriter();
            try
            {
                await using var tx = await _writer.BeginTransactionAsync(_postgres is null ? IsolationLevel.Serializable : IsolationLevel.ReadCommitted, ct);
                await TakeWriteLockAsync(tx, ct);
                var result = await work(_writer, tx);
                NotifyOthers(tx);
                await tx.CommitAsync(CancellationToken.None);
                RunAfterCommit();
                return result;
            }
            catch (Exception e) when (IsDatabaseFault(e))
            {
                Interlocked.Increment(ref _writeFailures);
                AfterFailedWrite(e);
                throw;
            }
        }
        finally
        {
            _afterCommit = null; // a write that did not commit drops its after-commit actions unrun
            _writeGate.Release();
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one IMMEDIATE transaction on the calling thread, but only if no other write is
    /// running or waiting; false (nothing done) otherwise. Lets a lone intake commit without a hop between threads.
    /// </summary>
    public bool TryWriteNow<T>(Func<DbConnection, DbTransaction, T> work, out T result)
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
                using var tx = _writer.BeginTransaction(_postgres is null ? IsolationLevel.Serializable : IsolationLevel.ReadCommitted);
                TakeWriteLock(tx);
                result = work(_writer, tx);
                NotifyOthers(tx);
                tx.Commit();
                RunAfterCommit();
                return true;
            }
            catch (Exception e) when (IsDatabaseFault(e))
            {
                Interlocked.Increment(ref _writeFailures);
                AfterFailedWrite(e);
                throw;
            }
        }
        finally
        {
            _afterCommit = null; // a write that did not commit drops its after-commit actions unrun
            _writeGate.Release();
        }
    }

    private Action? _afterCommit; // only touched under the write gate

    /// <summary>
    /// Runs <paramref name="action"/> once the write <paramref name="tx"/> has committed, before the next write begins:
    /// such actions run in commit order, and never for a write that did not commit. For memory that must follow the
    /// file exactly (the engine's handled mark).
    /// </summary>
    public void AfterCommit(IDbTransaction tx, Action action)
    {
        if (_writer is null || !ReferenceEquals(tx.Connection, _writer))
            throw new InvalidOperationException("Database.AfterCommit is for the writer, inside a write");
        _afterCommit += action;
    }

    private void RunAfterCommit()
    {
        var run = _afterCommit;
        _afterCommit = null;
        run?.Invoke();
    }

    public Task WriteAsync(Func<DbConnection, IDbTransaction, Task> work, CancellationToken ct = default) =>
        WriteAsync<bool>(async (c, tx) => { await work(c, tx); return true; }, ct);

    /// <summary>
    /// Applies the numbered scripts this database has not seen yet, each in its own transaction: Storage/Migrations on
    /// SQLite, Storage/PostgresMigrations on PostgreSQL (under the write lock, so two instances starting together
    /// migrate once).
    /// </summary>
    public void Migrate()
    {
        if (_postgres is null)
        {
            var dir = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        }
        using var c = Open();
        using (var tx = c.BeginTransaction())
        {
            TakeWriteLock(tx);
            c.Execute(_postgres is null
                ? "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (datetime('now')))"
                : "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')))",
                transaction: tx);
            tx.Commit();
        }
        foreach (var (version, name, sql) in Scripts(_postgres is null ? ".Storage.Migrations." : ".Storage.PostgresMigrations."))
        {
            using var tx = c.BeginTransaction();
            TakeWriteLock(tx);
            if (c.ExecuteScalar<long>("SELECT COUNT(*) FROM schema_migrations WHERE version = @version", new { version }, tx) > 0) continue;
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
            await WriteAsync(async (c, tx) => await c.ExecuteAsync("INSERT INTO health_probe(id, at) VALUES (1, 0) ON CONFLICT(id) DO UPDATE SET at = health_probe.at + 1", transaction: tx));
            return true;
        }
        catch (DbException)
        {
            return false;
        }
    }

    /// <summary>The lock file `larsbot run` holds on a SQLite file while it runs; released when this is disposed.</summary>
    internal SoleInstanceLock? InstanceLock { get; set; }

    public void Dispose()
    {
        DropWriter();
        _postgres?.Dispose();
        InstanceLock?.Dispose();
    }

    /// <summary>
    /// After a write that threw (its transaction already rolled back): a disk or connection fault can leave the writer
    /// unusable, so the next write starts on a fresh connection. But a fresh writer makes the engine reload every open
    /// key from the file (Paging/OpenKeys.cs) while it holds the writer: 1.5 s in a storm of a million
    /// alerts, with intake standing still. So an InvalidOperationException that says nothing about the connection (a
    /// query that found two rows where the work expected one) keeps it, when it is demonstrably fine: open, and out of
    /// any transaction. The prepared statements go either way: one the failed work left mid-read is not reused.
    /// </summary>
    private void AfterFailedWrite(Exception e)
    {
        if (e is InvalidOperationException and not ObjectDisposedException && WriterIsClean()) _statements.Clear();
        else DropWriter(); // its statements with it
    }

    private bool WriterIsClean() => _writer switch
    {
        SqliteConnection s => s.State == ConnectionState.Open && SQLitePCL.raw.sqlite3_get_autocommit(s.Handle) != 0,
        NpgsqlConnection n => n.FullState == ConnectionState.Open,
        _ => false,
    };

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
    public DbCommand Statement(IDbTransaction tx, string sql, params string[] parameterNames)
    {
        if (_writer is null || !ReferenceEquals(tx.Connection, _writer))
            throw new InvalidOperationException("Database.Statement is for the writer, inside a write");
        return _statements.Get(_writer, (DbTransaction)tx, sql, parameterNames);
    }

    private static IEnumerable<(long Version, string Name, string Sql)> Scripts(string folder)
    {
        var asm = Assembly.GetExecutingAssembly();
        foreach (var res in asm.GetManifestResourceNames().Where(n => n.Contains(folder) && n.EndsWith(".sql")).Order())
        {
            var file = res[(res.IndexOf(folder, StringComparison.Ordinal) + folder.Length)..];
            var version = long.Parse(file[..file.IndexOf('_')]);
            using var reader = new StreamReader(asm.GetManifestResourceStream(res)!);
            yield return (version, file, reader.ReadToEnd());
        }
    }
}
