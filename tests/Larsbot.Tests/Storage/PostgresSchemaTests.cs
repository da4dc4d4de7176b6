using System.Data.Common;
using System.Diagnostics;
using Dapper;
using Larsbot.Storage;
using Larsbot.Tests.Support;
using Npgsql;

namespace Larsbot.Tests.Storage;

/// <summary>
/// The PostgreSQL schema (Storage/PostgresMigrations) is SQLite's after all its migrations, on a real PostgreSQL: the
/// same tables, views, columns (order, type, NOT NULL, default, identity), keys, foreign keys, CHECK counts, indexes
/// and triggers, and the rules mean the same on both. A SQLite migration without its PostgreSQL twin fails here,
/// naming what is missing.
/// </summary>
// It compares a SQLite file's schema with a PostgreSQL database's in either pass: once is enough.
[Trait("Provider", "sqlite")]
public sealed class PostgresSchemaTests : IDisposable
{
    /// <summary>PostgreSQL-only facts, each with its reason; everything else must match SQLite exactly.</summary>
    private static readonly HashSet<string> PostgresOnly =
    [
        // TRUNCATE skips row triggers, and SQLite has no TRUNCATE to guard the append-only ledger against.
        "trigger ledger_entries_no_truncate on ledger_entries: before truncate for each statement",
        // A B-tree entry must fit in 2,704 bytes and an alert's text need not: a hash of the text (003_alert_text_hash_index).
        "index alerts_open_by_text on alerts(message) partial",
        // Ids from a sequence commit in any order there, so the engine cannot keep a handled mark: it finds unhandled
        // alerts by this index (SQLite dropped it for the mark, 015_handled_mark; Paging/HandledMark.cs).
        "index alerts_unhandled on alerts(id) partial",
        // The open keyed alerts by key: a standby's alerts and another leader's passes write these rows too, so the
        // engine cannot keep them in memory there (SQLite does, 016_open_keys_in_memory; Paging/OpenKeys.cs).
        "index alerts_open_by_key on alerts(dedup_key) partial",
    ];

    /// <summary>SQLite facts PostgreSQL has otherwise, each with its reason (its twin is in <see cref="PostgresOnly"/>).</summary>
    private static readonly HashSet<string> SqliteOnly =
    [
        "index alerts_open_by_text on alerts(host, message) partial",
        "index alerts_open_keyed on alerts(id) partial",
        "table handled_mark",
        "columns handled_mark: id, alert_id",
        "column handled_mark.id: INTEGER not null identity",
        "column handled_mark.alert_id: INTEGER not null",
        "primary key handled_mark(id)",
        "checks handled_mark: 1",
    ];

    private readonly TempDatabase _sqlite = TempDatabase.Sqlite();

    public void Dispose() => _sqlite.Dispose();

    /// <summary>Every PostgresMigrations script embedded in the bot, in order, as the migrator will apply them.</summary>
    private static IEnumerable<(string Name, string Sql)> PostgresScripts()
    {
        var asm = typeof(Database).Assembly;
        foreach (var res in asm.GetManifestResourceNames().Where(n => n.Contains(".Storage.PostgresMigrations.") && n.EndsWith(".sql")).Order())
        {
            using var reader = new StreamReader(asm.GetManifestResourceStream(res)!);
            yield return (res, reader.ReadToEnd());
        }
    }

    private static async Task<NpgsqlConnection> MigratedPostgresAsync()
    {
        var c = new NpgsqlConnection(await PostgresServer.Shared.CreateDatabaseAsync());
        await c.OpenAsync();
        var scripts = PostgresScripts().ToList();
        Assert.Contains(scripts, s => s.Name.EndsWith(".001_schema.sql"));
        foreach (var (_, sql) in scripts)
        {
            await using var tx = await c.BeginTransactionAsync();
            await c.ExecuteAsync(sql, transaction: tx);
            await tx.CommitAsync();
        }
        return c;
    }

    [Fact]
    public async Task The_PostgreSQL_schema_is_the_SQLite_schema_after_every_migration()
    {
        using var db = new Database(_sqlite.Path);
        db.Migrate();
        SortedSet<string> sqlite;
        using (var c = db.Open()) sqlite = SchemaFacts.FromSqlite(c);
        SortedSet<string> postgres;
        await using (var c = await MigratedPostgresAsync()) postgres = SchemaFacts.FromPostgres(c);

        // The readers see the schema at all (an empty read on both sides would compare equal).
        Assert.True(sqlite.Count > 250, $"only {sqlite.Count} facts read from SQLite");
        Assert.Contains("view pages", sqlite);
        Assert.Contains("column alerts.id: INTEGER not null identity", sqlite);
        Assert.Contains("trigger ledger_entries_no_update on ledger_entries: before update", sqlite);
        Assert.Contains("index pages_due on outbox(next_attempt_at) partial", sqlite);
        Assert.Contains("foreign key page_attempts(page_id) references outbox(id)", sqlite);

        var missing = sqlite.Except(postgres).Except(SqliteOnly).ToList();
        var extra = postgres.Except(sqlite).Except(PostgresOnly).ToList();
        var gone = PostgresOnly.Except(postgres).Concat(SqliteOnly.Except(sqlite)).ToList();
        if (missing.Count + extra.Count + gone.Count > 0)
        {
            Assert.Fail("Storage/PostgresMigrations does not match SQLite's schema after Storage/Migrations " +
                        "(a SQLite migration needs its PostgreSQL twin):\n" +
                        string.Concat(missing.Select(f => $"  missing in PostgreSQL: {f}\n")) +
                        string.Concat(extra.Select(f => $"  only in PostgreSQL:    {f}\n")) +
                        string.Concat(gone.Select(f => $"  PostgresOnly or SqliteOnly lists what is not there: {f}\n")));
        }
    }

    /// <summary>Statements and whether each must succeed, run in order on both; the same outcome on both is the same rule.</summary>
    private static readonly (string Sql, bool Succeeds)[] Rules =
    [
        ("INSERT INTO acks(id, at, nick, person_id, alerts_acked) VALUES (1, 1, 'n', 'p', 1)", true),
        ("INSERT INTO countdowns(id, started_at, page_at, state) VALUES (1, 1, 2, 'counting')", true),
        ("INSERT INTO countdowns(id, started_at, page_at, state) VALUES (2, 1, 2, 'resolved')", false),
        ("INSERT INTO countdowns(id, started_at, page_at, state, ack_id) VALUES (3, 1, 2, 'acked', 99)", false),
        ("INSERT INTO outbox(id, countdown_id, stage, person_id, channel, destination, title, body, created_at, state, next_attempt_at) " +
         "VALUES (1, 1, 'first', 'p', 'sms', '+1', 't', 'b', 1, 'due', 1)", true),
        ("INSERT INTO outbox(id, countdown_id, stage, person_id, channel, destination, title, body, created_at, state, next_attempt_at) " +
         "VALUES (2, 1, 'first', 'p', 'sms', '+2', 't', 'b', 1, 'due', 1)", false),
        ("INSERT INTO outbox(id, stage, person_id, channel, destination, title, body, created_at, state, next_attempt_at) " +
         "VALUES (3, 'line', 'p', 'irc', '#c', 'paging', 'b', 1, 'due', 1)", false),
        ("INSERT INTO outbox(id, stage, channel, destination, title, body, created_at, state, next_attempt_at) " +
         "VALUES (4, 'first', 'sms', '+1', 't', 'b', 1, 'due', 1)", false),
        // Two IRC lines with no countdown and no person: NULLs are distinct in the UNIQUE rule on both.
        ("INSERT INTO outbox(id, stage, channel, destination, title, body, created_at, state, next_attempt_at) " +
         "VALUES (5, 'line', 'irc', '#c', 'paging', 'b', 1, 'due', 1)", true),
        ("INSERT INTO outbox(id, stage, channel, destination, title, body, created_at, state, next_attempt_at) " +
         "VALUES (6, 'line', 'irc', '#c', 'paging', 'b', 1, 'due', 1)", true),
        ("INSERT INTO page_attempts(page_id, started_at) VALUES (99, 1)", false),
        ("INSERT INTO page_attempts(page_id, started_at) VALUES (1, 1)", true),
        ("INSERT INTO ledger_entries(id, recorded_at, pay_month, day, person_id, kind, amount) VALUES (1, 1, '2026-10', '2026-10-01', 'p', 'stipend', '1.00')", true),
        ("INSERT INTO ledger_entries(id, recorded_at, pay_month, day, person_id, kind, amount) VALUES (2, 1, '2026-10', '2026-10-01', 'p', 'tip', '1.00')", false),
        ("UPDATE ledger_entries SET amount = '2.00' WHERE id = 1", false),
        ("DELETE FROM ledger_entries WHERE id = 1", false),
        ("INSERT INTO health_probe(id, at) VALUES (1, 0)", true),
        ("INSERT INTO twilio_message_sids(message_sid, seen_at, from_number) VALUES ('SM1', 1, '+1')", true),
        ("INSERT INTO twilio_message_sids(message_sid, seen_at, from_number) VALUES ('SM1', 2, '+1')", false),
    ];

    private static List<string> Outcomes(DbConnection c) => Rules.Select(r =>
    {
        try
        {
            c.Execute(r.Sql);
            return $"ok    {r.Sql}";
        }
        catch (DbException e)
        {
            return $"error {r.Sql} ({e.Message.Split('\n')[0]})";
        }
    }).ToList();

    [Fact]
    public async Task Checks_keys_foreign_keys_triggers_and_the_pages_view_mean_the_same_on_both()
    {
        using var db = _sqlite.Open();
        using var lite = db.Open();
        await using var pg = await MigratedPostgresAsync();
        foreach (var (provider, c) in new (string, DbConnection)[] { ("SQLite", lite), ("PostgreSQL", pg) })
        {
            var outcomes = Outcomes(c);
            for (var i = 0; i < Rules.Length; i++)
                Assert.True(outcomes[i].StartsWith(Rules[i].Succeeds ? "ok" : "error"), $"{provider}: {outcomes[i]}");
            Assert.Contains("append-only", outcomes.Single(o => o.StartsWith("error UPDATE ledger_entries")));
            // pages is the outbox rows that reach a person; the ledger row is still there, unchanged.
            Assert.Equal(new[] { 1L }, c.Query<long>("SELECT id FROM pages ORDER BY id"));
            Assert.Equal("1.00", c.ExecuteScalar<string>("SELECT amount FROM ledger_entries WHERE id = 1"));
            // Text is ordered byte by byte on both (SQLite's BINARY, PostgreSQL's "C"): upper case before lower.
            c.Execute("INSERT INTO duty_changes(at, person_id, by_nick, kind) VALUES (1, 'b', 'n', 'take'), (2, 'B', 'n', 'take'), (3, 'a', 'n', 'take')");
            Assert.Equal(new[] { "B", "a", "b" }, c.Query<string>("SELECT person_id FROM duty_changes ORDER BY person_id"));
        }
    }

    [Fact]
    public async Task An_alert_text_longer_than_a_BTree_entry_can_be_handled_and_found_again_as_open()
    {
        // 40,000 characters that do not compress: a B-tree on (host, message) refused the handled row outright
        // ("index row requires ... bytes"), so the engine's pass failed on it for ever.
        var text = string.Concat(Enumerable.Range(0, 1000).Select(_ => Guid.NewGuid().ToString("N") + " x"));
        await using var pg = await MigratedPostgresAsync();
        await pg.ExecuteAsync("INSERT INTO alerts(id, received_at, source, host, level, message, handled_at) VALUES (1, 1, 'http', 'db1', 'urgent', @text, 2)", new { text });
        await pg.ExecuteAsync("INSERT INTO alerts(id, received_at, source, host, level, message, handled_at) VALUES (2, 1, 'http', 'db2', 'urgent', @text, 2)", new { text });
        Assert.Equal([2L], await pg.QueryAsync<long>(
            "SELECT id FROM alerts WHERE dedup_key IS NULL AND level <> 'info' AND host = 'db2' AND message = @text " +
            "AND handled_at IS NOT NULL AND resolved_at IS NULL AND duplicate_of IS NULL", new { text }));
    }

    [Fact]
    public async Task A_private_server_keeps_its_data_across_a_stop_and_a_kill_and_is_gone_after_dispose()
    {
        int pid;
        string dir;
        await using (var server = PostgresServer.StartPrivate())
        {
            // No pooling: a pooled connection would outlive the server it was opened on.
            var cs = await server.CreateDatabaseAsync() + ";Pooling=false";
            async Task<List<string>> RowsAsync()
            {
                await using var c = new NpgsqlConnection(cs);
                return (await c.QueryAsync<string>("SELECT v FROM t ORDER BY v")).ToList();
            }
            await using (var c = new NpgsqlConnection(cs))
                await c.ExecuteAsync("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('before stop')");

            server.Stop();
            Assert.False(server.IsRunning);
            await Assert.ThrowsAnyAsync<NpgsqlException>(RowsAsync);
            server.Start();
            Assert.Equal(["before stop"], await RowsAsync());

            await using (var c = new NpgsqlConnection(cs)) await c.ExecuteAsync("INSERT INTO t VALUES ('before kill')");
            pid = server.Pid!.Value;
            server.Kill();
            Assert.False(ProcessRuns(pid));
            await Assert.ThrowsAnyAsync<NpgsqlException>(RowsAsync);
            server.Start(); // crash recovery: the committed row is back
            Assert.Equal(["before kill", "before stop"], await RowsAsync());

            pid = server.Pid!.Value;
            dir = server.Dir;
            Assert.True(ProcessRuns(pid));
        }
        Assert.False(ProcessRuns(pid));
        Assert.False(Directory.Exists(dir));
    }

    private static bool ProcessRuns(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
