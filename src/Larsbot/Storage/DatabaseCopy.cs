using System.Data.Common;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Larsbot.Storage;

/// <summary>
/// `larsbot db copy`: every table of a SQLite database into an empty PostgreSQL one, ids and all, so a team moving to
/// leader and standby keeps its history. The tables are the SQLite file's own (read from sqlite_master, not listed
/// here) less <see cref="Skipped"/>; each must exist on the target with the same columns. Everything is read in one
/// SQLite read transaction (one snapshot) and written in one PostgreSQL transaction that holds the bots' write lock,
/// with the foreign keys deferred to the end (the PostgreSQL schema makes them DEFERRABLE for this), one binary COPY
/// per table. Nothing is ever deleted: a target holding any row in those tables is refused, as is a value PostgreSQL
/// cannot hold as it is (a NUL in text, a type SQLite let through); either way nothing is written.
/// </summary>
public static class DatabaseCopy
{
    /// <summary>Not copied: the migrator's own table (each side has its own history), /health's probe row, and the SQLite
    /// engine's handled mark (PostgreSQL finds unhandled alerts by an index instead: Paging/HandledMark.cs).</summary>
    public static readonly IReadOnlySet<string> Skipped = new HashSet<string>(StringComparer.Ordinal) { "schema_migrations", "health_probe", "handled_mark" };

    /// <summary>A copy that cannot go ahead, or that stopped, with nothing written: exit 1 with this message.</summary>
    public sealed class Refused(string message) : Exception(message);

    public sealed record TableCopied(string Table, long Rows);

    private sealed record Column(string Name, int KeyOrder, NpgsqlDbType Type);

    private sealed record Table(string Name, IReadOnlyList<Column> Columns);

    /// <summary>
    /// Copies <paramref name="source"/> (SQLite, migrated) into <paramref name="target"/> (PostgreSQL, migrated), and
    /// moves every identity past the ids copied. Returns the rows copied per table, in table-name order.
    /// </summary>
    public static async Task<IReadOnlyList<TableCopied>> CopyAsync(Database source, Database target, CancellationToken ct = default)
    {
        if (source.IsPostgres) throw new ArgumentException("the source must be a SQLite database", nameof(source));
        if (!target.IsPostgres) throw new ArgumentException("the target must be a PostgreSQL database", nameof(target));

        await using var from = (SqliteConnection)source.Open();
        // A deferred read transaction: its first read fixes the snapshot every later read sees (WAL), even if the bot
        // is still writing (which it should not be: what it writes after the snapshot is not copied).
        await using var snapshot = from.BeginTransaction(deferred: true);
        await using var to = (NpgsqlConnection)target.Open();
        await using var tx = await to.BeginTransactionAsync(ct);
        // The lock every bot's write transaction takes: no instance writes to the target while it is filled.
        await ExecuteAsync(to, tx, $"SELECT pg_advisory_xact_lock({Database.WriteLockKey})", ct);
        await ExecuteAsync(to, tx, "SET CONSTRAINTS ALL DEFERRED", ct);

        var tables = await TablesAsync(from, snapshot, to, tx, target.Description, ct);
        var holding = new List<string>();
        foreach (var t in tables)
            if (await HoldsRowsAsync(to, tx, t.Name, ct)) holding.Add(t.Name);
        if (holding.Count > 0)
            throw new Refused($"{target.Description} already holds rows in {string.Join(", ", holding)}: db copy only fills an empty " +
                "database and never deletes anything; nothing was written (copy into a new database, or empty this one yourself)");

        var copied = new List<TableCopied>();
        foreach (var t in tables) copied.Add(new TableCopied(t.Name, await CopyTableAsync(from, snapshot, to, t, ct)));

        // The foreign keys, checked now rather than at COMMIT (where a long check would meet the command timeout).
        await ExecuteAsync(to, tx, "SET CONSTRAINTS ALL IMMEDIATE", ct);
        await MoveIdentitiesAsync(to, tx, tables, ct);
        await tx.CommitAsync(ct);
        return copied;
    }

    /// <summary>The SQLite tables to copy, each checked against its PostgreSQL twin, whose column types it takes.</summary>
    private static async Task<List<Table>> TablesAsync(SqliteConnection from, SqliteTransaction snapshot, NpgsqlConnection to,
        NpgsqlTransaction tx, string targetName, CancellationToken ct)
    {
        var names = new List<string>();
        await using (var cmd = from.CreateCommand())
        {
            cmd.Transaction = snapshot;
            cmd.CommandText = @"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name";
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
                if (!Skipped.Contains(r.GetString(0))) names.Add(r.GetString(0));
        }

        var pgTypes = new Dictionary<(string Table, string Column), string>();
        await using (var cmd = new NpgsqlCommand(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()", to, tx))
        {
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) pgTypes[(r.GetString(0), r.GetString(1))] = r.GetString(2);
        }

        var tables = new List<Table>();
        foreach (var name in names)
        {
            var columns = new List<Column>();
            await using var cmd = from.CreateCommand();
            cmd.Transaction = snapshot;
            cmd.CommandText = "SELECT name, pk FROM pragma_table_info($table) ORDER BY cid";
            cmd.Parameters.AddWithValue("$table", name);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                var column = r.GetString(0);
                if (!pgTypes.TryGetValue((name, column), out var pgType))
                    throw new Refused(pgTypes.Keys.Any(k => k.Table == name)
                        ? $"{targetName} has no column {name}.{column}: its schema is not the SQLite file's (is this larsbot older than the file?); nothing was written"
                        : $"{targetName} has no table {name}: its schema is not the SQLite file's (is this larsbot older than the file?); nothing was written");
                columns.Add(new Column(column, r.GetInt32(1), pgType switch
                {
                    "bigint" => NpgsqlDbType.Bigint,
                    "text" => NpgsqlDbType.Text,
                    "double precision" => NpgsqlDbType.Double,
                    "bytea" => NpgsqlDbType.Bytea,
                    _ => throw new Refused($"{targetName}: {name}.{column} is {pgType}, which db copy does not convert to; nothing was written"),
                }));
            }
            var extra = pgTypes.Keys.Where(k => k.Table == name && columns.All(c => c.Name != k.Column)).Select(k => $"{name}.{k.Column}").ToList();
            if (extra.Count > 0)
                throw new Refused($"{targetName} has columns the SQLite file lacks ({string.Join(", ", extra)}): its schema is not the file's; nothing was written");
            tables.Add(new Table(name, columns));
        }
        return tables;
    }

    /// <summary>One table by binary COPY, in primary-key order; the rows written.</summary>
    private static async Task<long> CopyTableAsync(SqliteConnection from, SqliteTransaction snapshot, NpgsqlConnection to, Table t, CancellationToken ct)
    {
        var key = t.Columns.Where(c => c.KeyOrder > 0).OrderBy(c => c.KeyOrder).ToList();
        var list = string.Join(", ", t.Columns.Select(c => Quote(c.Name)));
        await using var cmd = from.CreateCommand();
        cmd.Transaction = snapshot;
        cmd.CommandText = $"SELECT {list} FROM {Quote(t.Name)} ORDER BY {(key.Count > 0 ? string.Join(", ", key.Select(c => Quote(c.Name))) : "rowid")}";
        await using var rows = await cmd.ExecuteReaderAsync(ct);
        await using var copy = await to.BeginBinaryImportAsync($"COPY {Quote(t.Name)} ({list}) FROM STDIN (FORMAT BINARY)", ct);
        long n = 0;
        while (await rows.ReadAsync(ct))
        {
            n++;
            await copy.StartRowAsync(ct);
            for (var i = 0; i < t.Columns.Count; i++)
            {
                var column = t.Columns[i];
                switch (rows.GetValue(i))
                {
                    case DBNull:
                        await copy.WriteNullAsync(ct);
                        break;
                    case long l when column.Type == NpgsqlDbType.Bigint:
                        await copy.WriteAsync(l, NpgsqlDbType.Bigint, ct);
                        break;
                    case long l when column.Type == NpgsqlDbType.Double:
                        await copy.WriteAsync((double)l, NpgsqlDbType.Double, ct);
                        break;
                    case double d when column.Type == NpgsqlDbType.Double:
                        await copy.WriteAsync(d, NpgsqlDbType.Double, ct);
                        break;
                    case string s when column.Type == NpgsqlDbType.Text:
                        if (s.Contains('\0'))
                            throw new Refused($"{t.Name}.{column.Name}, {RowName(rows, t, key, n)}, holds a NUL character (U+0000), which PostgreSQL " +
                                "text cannot store; nothing was written. The bot never writes one (an alert's NUL is stored as \\0 in " +
                                "alerts.message, with the exact bytes in alerts.message_raw): fix that row in the SQLite file, then copy again");
                        await copy.WriteAsync(s, NpgsqlDbType.Text, ct);
                        break;
                    case byte[] b when column.Type == NpgsqlDbType.Bytea:
                        await copy.WriteAsync(b, NpgsqlDbType.Bytea, ct);
                        break;
                    case string s when column.Type == NpgsqlDbType.Bytea:
                        // Text in a BLOB column (SQLite keeps what it is given): its UTF-8 bytes, as CAST(x AS BLOB) gives.
                        await copy.WriteAsync(Encoding.UTF8.GetBytes(s), NpgsqlDbType.Bytea, ct);
                        break;
                    case var other:
                        throw new Refused($"{t.Name}.{column.Name}, {RowName(rows, t, key, n)}, holds {SqliteType(other)} where PostgreSQL " +
                            $"wants {column.Type.ToString().ToLowerInvariant()}; nothing was written: fix that row in the SQLite file, then copy again");
                }
            }
        }
        var written = await copy.CompleteAsync(ct);
        if ((long)written != n) throw new Refused($"{t.Name}: read {n} rows but PostgreSQL took {written}; nothing was written");
        return n;
    }

    /// <summary>
    /// Every identity column of the tables copied continues past the largest id copied, so the bot's next row never
    /// collides with one (an empty table's identity is left alone).
    /// </summary>
    private static async Task MoveIdentitiesAsync(NpgsqlConnection to, NpgsqlTransaction tx, List<Table> tables, CancellationToken ct)
    {
        var identities = new List<(string Table, string Column)>();
        await using (var cmd = new NpgsqlCommand(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'", to, tx))
        {
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) identities.Add((r.GetString(0), r.GetString(1)));
        }
        foreach (var (table, column) in identities.Where(i => tables.Any(t => t.Name == i.Table)))
        {
            await using var cmd = new NpgsqlCommand(
                $"SELECT setval(pg_get_serial_sequence(@table, @column), top) FROM (SELECT max({Quote(column)}) AS top FROM {Quote(table)}) m WHERE top IS NOT NULL",
                to, tx) { CommandTimeout = 0 };
            cmd.Parameters.AddWithValue("table", Quote(table));
            cmd.Parameters.AddWithValue("column", column);
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection c, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, c, tx) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<bool> HoldsRowsAsync(NpgsqlConnection c, NpgsqlTransaction tx, string table, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"SELECT 1 FROM {Quote(table)} LIMIT 1", c, tx) { CommandTimeout = 0 };
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct);
    }

    /// <summary>"row id=17", "row countdown_id=3, day=2026-10-12", or (no primary key) "row 5" in rowid order.</summary>
    private static string RowName(DbDataReader rows, Table t, List<Column> key, long n) =>
        key.Count == 0 ? $"row {n}" : "row " + string.Join(", ", key.Select(k => $"{k.Name}={rows.GetValue(t.Columns.ToList().IndexOf(k))}"));

    private static string SqliteType(object value) => value switch
    {
        long => "an INTEGER",
        double => "a REAL",
        string => "TEXT",
        byte[] => "a BLOB",
        _ => value.GetType().Name,
    };

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";
}
