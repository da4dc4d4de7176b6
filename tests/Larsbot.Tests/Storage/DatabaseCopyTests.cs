using System.Data.Common;
using System.Diagnostics;
using Larsbot.Hosting;
using Larsbot.Intake;
using Larsbot.Ledger;
using Larsbot.Tests.Ledger;
using Larsbot.Tests.Paging;
using Larsbot.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace Larsbot.Tests.Storage;

/// <summary>
/// `larsbot db copy --to postgres`, through the real command line, from a real SQLite file (always SQLite, whatever
/// LARSBOT_TEST_DB says) into a fresh database on the tests' PostgreSQL server. Compared value by value afterwards.
/// </summary>
// Its source is a SQLite file in either pass, and it makes its own PostgreSQL target in either pass: once is enough.
[Trait("Provider", "sqlite")]
public sealed class DatabaseCopyTests(ITestOutputHelper output)
{
    private static readonly string[] Skipped = ["schema_migrations", "health_probe", "handled_mark"];

    private static async Task<(int Code, string Stdout, string Stderr)> LarsbotAsync(params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = await Cli.InvokeAsync(args, stdout, stderr);
        return (code, stdout.ToString().Replace("\r", ""), stderr.ToString().Replace("\r", ""));
    }

    private static Task<(int Code, string Stdout, string Stderr)> CopyAsync(TempDatabase sqlite, TempDatabase pg) =>
        LarsbotAsync("db", "copy", "--to", "postgres", "--connection-string", pg.ConnectionString!, $"--Database:Path={sqlite.Path}");

    private static string Describe(TempDatabase pg)
    {
        var b = new NpgsqlConnectionStringBuilder(pg.ConnectionString);
        return $"PostgreSQL {b.Host}:{b.Port}/{b.Database}";
    }

    [Fact]
    public async Task October_copies_row_for_row_verifies_on_PostgreSQL_and_new_rows_get_ids_above_the_copied_ones()
    {
        using var sqlite = TempDatabase.Sqlite();
        using var pg = TempDatabase.Postgres();
        using var h = await HandComputedMonthTests.LiveOctoberAsync(db: sqlite);

        var clock = Stopwatch.StartNew();
        var (code, stdout, stderr) = await CopyAsync(sqlite, pg);
        output.WriteLine($"db copy of October took {clock.ElapsedMilliseconds} ms (the whole verb: migrations, copy, sequences)\n{stdout}");
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);

        var tables = await SqliteTablesAsync(sqlite.Path);
        Assert.Superset(new HashSet<string> { "alerts", "countdowns", "acks", "outbox", "duty_changes", "duty_offers", "ledger_entries",
            "payout_runs", "incident_reports", "leader_lease", "leader_terms" }, tables.Keys.ToHashSet());
        Assert.Equal(tables.Keys.Order(), await PostgresTablesAsync(pg.ConnectionString!));

        // Every table, row by row, value by value, in primary-key order; and the summary says how many of each.
        await using var from = new SqliteConnection($"Data Source={sqlite.Path};Mode=ReadOnly;Pooling=false");
        await using var to = new NpgsqlConnection(pg.ConnectionString);
        await from.OpenAsync();
        await to.OpenAsync();
        var lines = stdout.TrimEnd('\n').Split('\n');
        long total = 0;
        foreach (var (table, (columns, key)) in tables)
        {
            var expected = await RowsAsync(from, table, columns, key);
            var actual = await RowsAsync(to, table, columns, key);
            Assert.True(expected.Count == actual.Count, $"{table}: {expected.Count} rows in SQLite, {actual.Count} in PostgreSQL");
            for (var i = 0; i < expected.Count; i++) Assert.Equal(expected[i], actual[i]);
            Assert.Contains(lines, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var t, var n] && t == table && n == expected.Count.ToString());
            total += expected.Count;
        }
        Assert.Equal(tables.Count + 1, lines.Length);
        Assert.Equal($"copied {total} rows from {sqlite.Path} to {Describe(pg)}", lines[^1]);
        Assert.True((await RowsAsync(to, "alerts", ["id"], ["id"])).Count >= 5);
        Assert.NotEmpty(await RowsAsync(to, "ledger_entries", ["id"], ["id"]));

        // Every identity continues after the largest id copied.
        foreach (var (table, column) in await IdentitiesAsync(to))
        {
            var top = await ScalarAsync(to, $"SELECT max(\"{column}\") FROM \"{table}\"");
            var last = await ScalarAsync(to, $"SELECT pg_sequence_last_value(pg_get_serial_sequence('\"{table}\"', '{column}')::regclass)");
            Assert.True(Equals(top, last), $"{table}.{column}: largest id {top}, its identity last gave {last}");
        }

        // The bot on the copy: the ledger follows from the copied rows, the payout is October's, a new alert is the next id.
        await using var app = LarsbotHost.Build([], configFile: null, overrides: new Dictionary<string, string?>
        {
            ["Database:Provider"] = "postgres",
            ["Database:ConnectionString"] = pg.ConnectionString,
            ["Roster:Path"] = Path.Combine(RepoPaths.Root, "roster.sample.json"),
            ["Intake:TcpPort"] = "-1",
        }, services: s => s.AddSingleton<TimeProvider>(h.Clock));
        var verify = new StringWriter();
        Assert.Equal(0, await LedgerCli.VerifyAsync(app.Services, verify));
        Assert.StartsWith("ok:", verify.ToString());
        var md = Path.Combine(sqlite.Dir, "from-postgres.md");
        Assert.Equal(0, await LedgerCli.PayoutAsync(app.Services, new Dictionary<string, string> { ["month"] = "2026-10", ["out"] = md }, TextWriter.Null, TextWriter.Null));
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(h.Options.ReportFolder, "payout-2026-10.md")), await File.ReadAllTextAsync(md));

        var maxAlert = (long)(await ScalarAsync(to, "SELECT max(id) FROM alerts"))!;
        var taken = await app.Services.GetRequiredService<AlertIntake>().AcceptAsync(new AlertInput("db9", "urgent", "after the move"), "test");
        Assert.True(taken.Ok, taken.Error);
        Assert.Equal(maxAlert + 1, taken.Id);
    }

    [Fact]
    public async Task A_second_copy_into_a_database_that_holds_rows_is_refused_and_changes_nothing()
    {
        using var sqlite = TempDatabase.Sqlite();
        using var pg = TempDatabase.Postgres();
        using (var e = new EngineHarness(sharedDb: sqlite))
        {
            await e.TakeDutyAsync("brong", "brong");
            await e.AlertAsync("db1", "replication stopped");
        }
        Assert.Equal(0, (await CopyAsync(sqlite, pg)).Code);
        var before = await SnapshotAsync(sqlite.Path, pg.ConnectionString!);

        var (code, stdout, stderr) = await CopyAsync(sqlite, pg);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.StartsWith($"larsbot: {Describe(pg)} already holds rows in ", stderr);
        Assert.Contains("alerts", stderr);
        Assert.Contains("never deletes anything; nothing was written", stderr);
        var after = await SnapshotAsync(sqlite.Path, pg.ConnectionString!);
        Assert.Equal(before.Sqlite, after.Sqlite);
        Assert.Equal(before.Postgres, after.Postgres);
    }

    [Fact]
    public async Task Bad_arguments_are_a_usage_error_with_what_is_wrong()
    {
        using var sqlite = TempDatabase.Sqlite();
        var path = $"--Database:Path={sqlite.Path}";
        var noTo = await LarsbotAsync("db", "copy", "--connection-string", "Host=127.0.0.1", path);
        Assert.Equal(64, noTo.Code);
        Assert.Contains("--to", noTo.Stderr);
        Assert.EndsWith("Try: larsbot db copy --help\n", noTo.Stderr);

        var mysql = await LarsbotAsync("db", "copy", "--to", "mysql", "--connection-string", "Host=127.0.0.1", path);
        Assert.Equal(64, mysql.Code);
        Assert.Equal("larsbot: --to 'mysql': db copy copies into postgres only. Try: larsbot db copy --help\n", mysql.Stderr);

        // No --connection-string, and none in the configuration (set empty here, whatever the environment holds).
        var none = await LarsbotAsync("db", "copy", "--to", "postgres", path, "--Database:ConnectionString=");
        Assert.Equal((64, ""), (none.Code, none.Stdout));
        Assert.Equal("larsbot: db copy needs the PostgreSQL database: --connection-string \"Host=db1;Database=larsbot;Username=larsbot\", " +
            "or Database:ConnectionString in the configuration. Try: larsbot db copy --help\n", none.Stderr);

        var noHost = await LarsbotAsync("db", "copy", "--to", "postgres", "--connection-string", "Database=larsbot;Password=sekrit", path);
        Assert.Equal(64, noHost.Code);
        Assert.StartsWith("larsbot: --connection-string needs Host=...", noHost.Stderr);
        var typo = await LarsbotAsync("db", "copy", "--to", "postgres", "--connection-string", "Hots=db1", path);
        Assert.Equal(64, typo.Code);
        Assert.StartsWith("larsbot: --connection-string is not a PostgreSQL connection string", typo.Stderr);

        Assert.Equal(64, (await LarsbotAsync("db")).Code);
        // No --force: a database that holds rows is refused, never emptied.
        Assert.Equal(64, (await LarsbotAsync("db", "copy", "--to", "postgres", "--connection-string", "Host=x", "--force")).Code);
        Assert.False(File.Exists(sqlite.Path)); // nothing was opened, so nothing was created
    }

    [Fact]
    public async Task The_connection_string_may_come_from_the_configuration_file_and_help_says_so()
    {
        using var sqlite = TempDatabase.Sqlite();
        using var pg = TempDatabase.Postgres();
        using (var e = new EngineHarness(sharedDb: sqlite)) await e.AlertAsync("web3", "disk 91%");
        var config = Path.Combine(sqlite.Dir, "larsbot.json");
        await File.WriteAllTextAsync(config, System.Text.Json.JsonSerializer.Serialize(new
        {
            Database = new { Provider = "postgres", Path = sqlite.Path, ConnectionString = pg.ConnectionString },
        }));

        var (code, stdout, stderr) = await LarsbotAsync("db", "copy", "--to", "postgres", "--config", config);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"(?m)^alerts +1$", stdout);
        var (rows, copied) = await SnapshotAsync(sqlite.Path, pg.ConnectionString!);
        Assert.Equal(rows, copied.Where(r => !r.StartsWith("identity ")));
        Assert.EndsWith($"copied {rows.Count} rows from {sqlite.Path} to {Describe(pg)}\n", stdout);

        var help = await LarsbotAsync("db", "copy", "--help");
        Assert.Equal(0, help.Code);
        foreach (var said in new[] { "larsbot db copy [options]", "--to <postgres>", "--connection-string <CS>", "Database:ConnectionString", "--config <FILE>" })
            Assert.Contains(said, help.Stdout);
    }

    [Fact]
    public async Task An_unreachable_server_is_exit_1_with_the_error_and_never_the_password()
    {
        using var sqlite = TempDatabase.Sqlite();
        using (var e = new EngineHarness(sharedDb: sqlite)) await e.AlertAsync("web3", "disk 91%");
        var port = Ports.Free();
        var (code, stdout, stderr) = await LarsbotAsync("db", "copy", "--to", "postgres", "--connection-string",
            $"Host=127.0.0.1;Port={port};Database=larsbot;Username=larsbot;Password=sekrit-pw", $"--Database:Path={sqlite.Path}");
        Assert.Equal((1, ""), (code, stdout));
        Assert.StartsWith($"larsbot: cannot reach or migrate PostgreSQL 127.0.0.1:{port}/larsbot: ", stderr);
        Assert.DoesNotContain("sekrit", stderr);

        var missing = Path.Combine(sqlite.Dir, "nope.db");
        var none = await LarsbotAsync("db", "copy", "--to", "postgres", "--connection-string", "Host=127.0.0.1", $"--Database:Path={missing}");
        Assert.Equal((1, "", $"larsbot: Database:Path {missing}: no such file, nothing to copy\n"), none);
        Assert.False(File.Exists(missing));
    }

    [Fact]
    public async Task A_NUL_kept_as_the_bot_keeps_it_copies_exactly_and_a_raw_NUL_in_text_is_refused_by_table_column_and_row()
    {
        using var sqlite = TempDatabase.Sqlite();
        using var pg = TempDatabase.Postgres();
        long id;
        using (var e = new EngineHarness(sharedDb: sqlite)) id = await e.AlertAsync("web3", "bad\0byte", level: "info");
        Assert.Equal(0, (await CopyAsync(sqlite, pg)).Code);
        await using (var to = new NpgsqlConnection(pg.ConnectionString))
        {
            await to.OpenAsync();
            Assert.Equal(new object?[] { "bad\\0byte", "bad\0byte"u8.ToArray() }, (await RowsAsync(to, "alerts", ["message", "message_raw"], ["id"]))[0]);
        }

        // A NUL the bot never writes, put in by hand: refused, naming where it is; nothing written.
        using var sqlite2 = TempDatabase.Sqlite();
        using var pg2 = TempDatabase.Postgres();
        using (var e = new EngineHarness(sharedDb: sqlite2)) await e.AlertAsync("web3", "disk 91%");
        await using (var c = new SqliteConnection($"Data Source={sqlite2.Path};Pooling=false"))
        {
            await c.OpenAsync();
            await using var cmd = new SqliteCommand("INSERT INTO acks(id, at, nick, person_id, alerts_acked) VALUES (7, 0, CAST(X'726F626E00' AS TEXT), 'robn', 0)", c);
            await cmd.ExecuteNonQueryAsync();
        }
        var (code, stdout, stderr) = await CopyAsync(sqlite2, pg2);
        Assert.Equal((1, ""), (code, stdout));
        Assert.StartsWith("larsbot: acks.nick, row id=7, holds a NUL character (U+0000), which PostgreSQL text cannot store; nothing was written.", stderr);
        Assert.DoesNotContain((await SnapshotAsync(sqlite2.Path, pg2.ConnectionString!)).Postgres, r => !r.StartsWith("identity "));
    }

    /// <summary>The tables db copy copies, with their columns in order and their primary key, from the SQLite file.</summary>
    private static async Task<SortedDictionary<string, (List<string> Columns, List<string> Key)>> SqliteTablesAsync(string path)
    {
        var tables = new SortedDictionary<string, (List<string>, List<string>)>(StringComparer.Ordinal);
        await using var c = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=false");
        await c.OpenAsync();
        foreach (var name in (await RowsAsync(c, "sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", ["name"], ["name"])).Select(r => (string)r[0]!))
        {
            if (Skipped.Contains(name)) continue;
            var info = await RowsAsync(c, $"pragma_table_info('{name}')", ["name", "pk"], ["cid"]);
            tables[name] = ([.. info.Select(r => (string)r[0]!)], [.. info.Where(r => (long)r[1]! > 0).OrderBy(r => (long)r[1]!).Select(r => (string)r[0]!)]);
        }
        return tables;
    }

    private static async Task<List<string>> PostgresTablesAsync(string cs)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        var rows = await RowsAsync(c, "information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'", ["table_name"], ["table_name"]);
        return [.. rows.Select(r => (string)r[0]!).Where(t => !Skipped.Contains(t))];
    }

    private static async Task<List<(string Table, string Column)>> IdentitiesAsync(NpgsqlConnection c) =>
        [.. (await RowsAsync(c, "information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'", ["table_name", "column_name"], ["table_name"]))
            .Select(r => ((string)r[0]!, (string)r[1]!))];

    /// <summary>Rows of <paramref name="from"/> (a table, or a table with its WHERE), each value long, double, string, byte[] or null.</summary>
    private static async Task<List<object?[]>> RowsAsync(DbConnection c, string from, IReadOnlyList<string> columns, IReadOnlyList<string> key)
    {
        await using var cmd = c.CreateCommand();
        var quoted = from.Contains(' ') || from.Contains('(') ? from : $"\"{from}\"";
        cmd.CommandText = $"SELECT {string.Join(", ", columns.Select(n => $"\"{n}\""))} FROM {quoted} ORDER BY {string.Join(", ", key.Select(n => $"\"{n}\""))}";
        await using var r = await cmd.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await r.ReadAsync())
        {
            var row = new object?[columns.Count];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = r.IsDBNull(i) ? null : r.GetValue(i);
                Assert.True(row[i] is null or long or double or string or byte[], $"{from}.{columns[i]}: {row[i]?.GetType()}");
            }
            rows.Add(row);
        }
        return rows;
    }

    private static async Task<object?> ScalarAsync(DbConnection c, string sql)
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        var v = await cmd.ExecuteScalarAsync();
        return v is DBNull ? null : v;
    }

    /// <summary>Every row of every copied table on both sides, and the PostgreSQL identities' positions, as text.</summary>
    private static async Task<(List<string> Sqlite, List<string> Postgres)> SnapshotAsync(string path, string cs)
    {
        var tables = await SqliteTablesAsync(path);
        await using var from = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=false");
        await using var to = new NpgsqlConnection(cs);
        await from.OpenAsync();
        await to.OpenAsync();
        var (sqlite, postgres) = (new List<string>(), new List<string>());
        foreach (var (table, (columns, key)) in tables)
        {
            sqlite.AddRange((await RowsAsync(from, table, columns, key)).Select(r => Line(table, r)));
            postgres.AddRange((await RowsAsync(to, table, columns, key)).Select(r => Line(table, r)));
        }
        foreach (var (table, column) in await IdentitiesAsync(to))
            postgres.Add($"identity {table}.{column} {await ScalarAsync(to, $"SELECT pg_sequence_last_value(pg_get_serial_sequence('\"{table}\"', '{column}')::regclass)")}");
        return (sqlite, postgres);
    }

    private static string Line(string table, object?[] row) =>
        table + "|" + string.Join("|", row.Select(v => v switch { null => "NULL", byte[] b => Convert.ToHexString(b), _ => v.ToString() }));
}
