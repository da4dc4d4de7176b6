using Dapper;
using Larsbot.Intake;
using Larsbot.Paging;
using Larsbot.Storage;
using Larsbot.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Larsbot.Tests.Storage;

/// <summary>
/// The intake's write path on a real SQLite file: an id is returned only for a committed row, alerts that queue behind
/// a busy writer share one commit, a failed commit fails every caller in it, and the WAL is checkpointed off the
/// commit path. Also that the per-alert lookups are answered from an index (a scan there halves intake).
/// </summary>
// SQLite's own write path: its single writer's group commit, the WAL and its checkpoints, and its query plans.
[Trait("Provider", "sqlite")]
public sealed class GroupCommitTests : IDisposable
{
    private readonly TempDatabase _temp = TempDatabase.Sqlite();
    private readonly Database _db;

    public GroupCommitTests() => _db = _temp.Open();

    public void Dispose()
    {
        _db.Dispose();
        _temp.Dispose();
    }

    private static NewAlert Alert(int i, string host = "web1") => new(1_000 + i, "test", host, "info", $"check {i}");

    private List<(long Id, string Host, string Message)> StoredRows()
    {
        // A fresh connection: only what was committed is visible.
        using var c = _db.Open();
        return c.Query<(long, string, string)>("SELECT id, host, message FROM alerts ORDER BY id").ToList();
    }

    [Fact]
    public async Task Alerts_queued_behind_a_busy_writer_wait_and_then_share_one_commit()
    {
        await using var batcher = new AlertBatcher(_db);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = _db.WriteAsync(async (_, _) => await release.Task);

        var inserts = Enumerable.Range(0, 50).Select(i => batcher.InsertAsync(Alert(i))).ToList();
        // The writer is held, so no insert can have been committed, and none may claim it was.
        Assert.All(inserts, t => Assert.False(t.IsCompleted));
        Assert.Empty(StoredRows());

        release.SetResult();
        await holding;
        var ids = await Task.WhenAll(inserts);

        var rows = StoredRows();
        Assert.Equal(50, rows.Count);
        Assert.Equal(ids.Order(), rows.Select(r => r.Id));
        for (var i = 0; i < 50; i++) Assert.Equal($"check {i}", rows.Single(r => r.Id == ids[i]).Message);
        var (commits, stored) = batcher.Stats;
        Assert.Equal(50, stored);
        Assert.True(commits <= 2, $"50 queued alerts took {commits} commits");
    }

    [Fact]
    public async Task An_alert_that_finds_the_writer_idle_is_committed_before_the_call_returns()
    {
        await using var batcher = new AlertBatcher(_db);
        var insert = batcher.InsertAsync(Alert(1));
        Assert.True(insert.IsCompletedSuccessfully);
        Assert.Equal([(await insert, "web1", "check 1")], StoredRows());
        Assert.Equal((1, 1), batcher.Stats);
    }

    [Fact]
    public async Task Many_concurrent_callers_each_get_the_id_of_their_own_committed_row()
    {
        await using var batcher = new AlertBatcher(_db);
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            var mine = new List<(long Id, int N)>();
            for (var i = 0; i < 200; i++)
            {
                var n = worker * 1000 + i;
                mine.Add((await batcher.InsertAsync(Alert(n, $"host{worker}")), n));
            }
            return mine;
        })));

        var rows = StoredRows().ToDictionary(r => r.Id);
        var all = results.SelectMany(r => r).ToList();
        Assert.Equal(3_200, rows.Count);
        Assert.Equal(3_200, all.Select(a => a.Id).Distinct().Count());
        foreach (var (id, n) in all)
        {
            Assert.Equal($"host{n / 1000}", rows[id].Host);
            Assert.Equal($"check {n}", rows[id].Message);
        }
        Assert.Equal(3_200, batcher.Stats.Rows);
    }

    [Fact]
    public async Task A_failed_commit_fails_every_caller_in_it_and_stores_none_of_them()
    {
        // A row the database refuses, inside a batch of good ones: the whole transaction is rolled back.
        using (var c = _db.Open())
            c.Execute("CREATE TRIGGER poison BEFORE INSERT ON alerts WHEN NEW.host = 'poison' BEGIN SELECT RAISE(ABORT, 'refused'); END");
        await using var batcher = new AlertBatcher(_db);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = _db.WriteAsync(async (_, _) => await release.Task);
        var batch = new[] { batcher.InsertAsync(Alert(1)), batcher.InsertAsync(Alert(2, "poison")), batcher.InsertAsync(Alert(3)) };
        release.SetResult();
        await holding;

        foreach (var t in batch) await Assert.ThrowsAsync<SqliteException>(() => t);
        Assert.Empty(StoredRows());
        // Alone, on the inline path: the same.
        await Assert.ThrowsAsync<SqliteException>(() => batcher.InsertAsync(Alert(4, "poison")));
        // And the writer is usable afterwards.
        var id = await batcher.InsertAsync(Alert(5));
        Assert.Equal([(id, "web1", "check 5")], StoredRows());
    }

    [Fact]
    public async Task After_dispose_an_insert_is_refused_not_lost_silently()
    {
        var batcher = new AlertBatcher(_db);
        await batcher.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => batcher.InsertAsync(Alert(1)));
        Assert.Empty(StoredRows());
    }

    public static TheoryData<string, string[]> Lookups => new()
    {
        // The engine's one statement a pass finds each fresh alert's original by key or by host and text.
        // Its fresh alerts by id, above the handled mark (the table's own order, no index of unhandled alerts).
        // On SQLite the original by key comes from the engine's open keys (Paging/OpenKeys.cs), each candidate read by id.
        { RepeatsModule.FreshAlertsSqliteSql, ["alerts_open_by_text"] },
        { ResolveModule.UnhandledAlertSql, [] },
        { ResolveModule.ResolveByKeyCandidateSql, [] },
        // The open keys are loaded at start from the open keyed alerts by id, not from the table.
        { OpenKeys.LoadSql, ["alerts_open_keyed"] },
        { ResolveModule.ResolveByTextSql, ["alerts_open_by_text"] },
        // A scrape of /metrics: new rows only, and the open keyed alerts from their own index.
        { Larsbot.Metrics.LarsbotMetrics.NewAlertCountsSql, [] },
        { Larsbot.Metrics.LarsbotMetrics.OpenKeyedAlertsSql, ["alerts_open_keyed"] },
        // The announce's run of alerts marked handled: counted, then updated, over the run's id range.
        { PagingStore.UnhandledInSql, [] },
        { PagingStore.MarkRangeSql, [] },
    };

    [Theory]
    [MemberData(nameof(Lookups))]
    public void The_per_alert_lookups_use_their_index(string sql, string[] indexes)
    {
        using var c = (SqliteConnection)_db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var (name, value) in new (string, object)[] { ("key", "k"), ("host", "h"), ("message", "m"), ("id", 1L), ("since", 0L), ("window", 600_000L), ("last", 0L),
                     ("after", 0L), ("through", 4096L), ("from", 1L), ("to", 4096L), ("now", 0L), ("disposition", "announced"), ("countdownId", 1L) })
            if (sql.Contains("@" + name) || sql.Contains("$" + name)) cmd.Parameters.AddWithValue(name, value);
        var details = new List<string>();
        using (var r = cmd.ExecuteReader())
            while (r.Read()) details.Add(r.GetString(3));
        var plan = string.Join("\n", details);
        foreach (var index in indexes) Assert.Contains($"USING INDEX {index}", plan);
        if (sql.Contains("$after") || sql.Contains("@after"))
            Assert.Contains("USING INTEGER PRIMARY KEY (rowid>?", plan); // from the mark on, not from the first alert ever
        if (sql.Contains("$from"))
            Assert.Contains("USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)", plan); // the run's own ids only
        // No pass over the whole table: a SCAN only over an index is fine, and so is one over a subquery's own rows (a
        // co-routine: the engine's slice of at most MaxAlertsPerPass alerts).
        var derived = details.Where(d => d.StartsWith("CO-ROUTINE ", StringComparison.Ordinal) || d.StartsWith("MATERIALIZE ", StringComparison.Ordinal))
            .Select(d => "SCAN " + d[(d.IndexOf(' ') + 1)..]).ToHashSet();
        Assert.DoesNotContain(details, d => d.StartsWith("SCAN", StringComparison.Ordinal) && !d.Contains("USING INDEX") && !derived.Contains(d));
    }

    [Fact]
    public async Task What_runs_after_a_commit_runs_in_commit_order_and_never_for_a_write_that_failed()
    {
        var ran = new List<string>();
        await _db.WriteAsync((c, tx) => { _db.AfterCommit(tx, () => ran.Add("first")); return Task.CompletedTask; });
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => _db.WriteAsync(async (c, tx) =>
        {
            _db.AfterCommit(tx, () => ran.Add("failed"));
            await c.ExecuteAsync("INSERT INTO no_such_table VALUES (1)", transaction: tx);
        }));
        Assert.True(_db.TryWriteNow((c, tx) => { _db.AfterCommit(tx, () => ran.Add("second")); return 0; }, out _));
        Assert.Equal(["first", "second"], ran);
    }

    [Fact]
    public void An_insert_touches_only_the_table()
    {
        // Every index an INSERT must update costs about as much as the row itself at one request at a time (a page in
        // the WAL each): the engine finds new alerts above its handled mark, not through an index of unhandled ones.
        using var c = (SqliteConnection)_db.Open();
        c.Execute("INSERT INTO alerts(received_at, source, host, level, message) VALUES (1, 'test', 'h', 'info', 'm')");
        var indexes = EntriesPerIndex(c);
        foreach (var (name, entries) in indexes)
            Assert.True(entries == 0, $"{name} holds {entries} entries for a new alert");
        Assert.DoesNotContain("alerts_unhandled", indexes.Keys);
        Assert.Equal(3, indexes.Count);
    }

    [Theory]
    [InlineData("urgent", null, true)]
    [InlineData("info", "backup-nightly", true)]
    [InlineData("info", null, false)]
    public async Task A_stored_alert_enters_no_index(string level, string? key, bool forTheEngine)
    {
        await using var batcher = new AlertBatcher(_db);
        await batcher.InsertAsync(new NewAlert(1_000, "test", "h", level, "m", key));
        using var c = (SqliteConnection)_db.Open();
        var (handledAt, disposition) = c.QuerySingle<(long? HandledAt, string? Disposition)>("SELECT handled_at, disposition FROM alerts");
        // Unkeyed info is recorded as it arrives; everything else waits for the engine.
        Assert.Equal(forTheEngine ? (null, null) : (1_000L, "recorded"), (handledAt, disposition));
        foreach (var (name, entries) in EntriesPerIndex(c))
            Assert.Equal(0, entries);
    }

    /// <summary>How many rows each (partial) index on alerts holds, counted through the index under its own WHERE.</summary>
    private static Dictionary<string, long> EntriesPerIndex(SqliteConnection c) =>
        c.Query<(string Name, string Where)>(
                "SELECT name, substr(sql, instr(sql, 'WHERE') + 6) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alerts' AND sql IS NOT NULL")
            .ToDictionary(i => i.Name, i => c.ExecuteScalar<long>($"SELECT COUNT(*) FROM alerts INDEXED BY {i.Name} WHERE {i.Where}"));

    [Fact]
    public async Task The_checkpointer_copies_committed_rows_into_the_database_file()
    {
        // Start from a database file that holds everything so far (the schema), then leave new rows in the WAL.
        using (var c = _db.Open()) c.Execute("PRAGMA wal_checkpoint(TRUNCATE)");
        using var db = new Database(_temp.Path) { WriterCheckpointPages = 100_000 };
        await using var batcher = new AlertBatcher(db);
        for (var i = 0; i < 100; i++) await batcher.InsertAsync(Alert(i));
        Assert.Equal(0, RowsInMainFileAlone());

        var clock = new FakeTimeProvider();
        var checkpointer = new WalCheckpointer(db, Options.Create(new StorageOptions { CheckpointEvery = TimeSpan.FromMilliseconds(200) }),
            clock, NullLogger<WalCheckpointer>.Instance);
        await checkpointer.StartAsync(CancellationToken.None);
        try
        {
            // Each step of the clock lets one checkpoint run; wait for its effect, not for time.
            await Eventually.TrueAsync(() =>
            {
                if (RowsInMainFileAlone() == 100) return true;
                clock.Advance(TimeSpan.FromMilliseconds(200));
                return false;
            }, TimeSpan.FromSeconds(10), "no checkpoint", every: TimeSpan.FromMilliseconds(10));
        }
        finally
        {
            await checkpointer.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_writer_checkpoints_by_itself_only_past_the_configured_pages_so_commits_do_not_copy_the_WAL()
    {
        async Task<long> WriterAutocheckpoint(Dictionary<string, string?> settings)
        {
            settings["Database:Path"] = _temp.Path;
            var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
            await using var sp = new ServiceCollection().AddLogging().AddStorage(config).BuildServiceProvider();
            return await sp.GetRequiredService<Database>().WriteAsync((c, tx) => Task.FromResult(c.ExecuteScalar<long>("PRAGMA wal_autocheckpoint", transaction: tx)));
        }
        // The default: far past what the checkpointer lets pile up between two of its passes.
        Assert.Equal(new StorageOptions().WriterCheckpointPages, await WriterAutocheckpoint([]));
        Assert.Equal(50_000, new StorageOptions().WriterCheckpointPages);
        Assert.Equal(20_000, await WriterAutocheckpoint(new() { ["Database:WriterCheckpointPages"] = "20000" }));
        // Without the checkpointer (CheckpointEvery=0) SQLite's own 1,000 pages.
        Assert.Equal(1_000, await WriterAutocheckpoint(new() { ["Database:CheckpointEvery"] = "00:00:00" }));
    }

    /// <summary>Rows in a copy of the database file without its WAL: what a checkpoint has written back.</summary>
    private long RowsInMainFileAlone()
    {
        var copy = Path.Combine(_temp.Dir, $"alone-{Guid.NewGuid():N}.db");
        File.Copy(_temp.Path, copy);
        try
        {
            using var c = new SqliteConnection($"Data Source={copy};Pooling=False");
            c.Open();
            return c.ExecuteScalar<long>("SELECT COUNT(*) FROM alerts");
        }
        finally
        {
            File.Delete(copy);
        }
    }
}
