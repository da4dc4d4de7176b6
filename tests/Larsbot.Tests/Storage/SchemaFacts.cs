using System.Data.Common;
using System.Text.RegularExpressions;
using Dapper;

namespace Larsbot.Tests.Storage;

/// <summary>
/// A schema as a set of one-line facts ("column alerts.level: TEXT not null", "index pages_due on outbox(next_attempt_at)
/// partial"), read from SQLite's catalog or PostgreSQL's, in SQLite's words, so two schemas compare as two sets and a
/// difference reads as the fact that is missing. Types are SQLite's: PostgreSQL's bigint is INTEGER, text (collated
/// "C", SQLite's byte order) TEXT, double precision REAL, bytea BLOB; anything else shows as itself and differs.
/// </summary>
internal static partial class SchemaFacts
{
    /// <summary>Created by the migrator itself, for both providers; not part of the migration scripts.</summary>
    private const string MigratorsTable = "schema_migrations";

    [GeneratedRegex(@"--[^\n]*")]
    private static partial Regex Comment();

    [GeneratedRegex(@"\bCHECK\s*\(", RegexOptions.IgnoreCase)]
    private static partial Regex Check();

    [GeneratedRegex(@"^CREATE\s+TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+(BEFORE\s+|AFTER\s+|INSTEAD\s+OF\s+)?(INSERT|UPDATE|DELETE)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Trigger();

    [GeneratedRegex(@"::[a-z ]+$")]
    private static partial Regex Cast();

    private sealed record SqliteObject(string Type, string Name, string TblName, string? Sql);

    // Properties, not a record: Dapper takes a column's type from the first row, and a NULL dflt_value reads as a BLOB.
    private sealed class SqliteColumn
    {
        public string Name { get; init; } = "";
        public string Type { get; init; } = "";
        public long NotNull { get; init; }
        public string? DfltValue { get; init; }
        public long Pk { get; init; }
    }

    public static SortedSet<string> FromSqlite(DbConnection c)
    {
        var facts = new SortedSet<string>(StringComparer.Ordinal);
        var objects = c.Query<SqliteObject>(
            "SELECT type AS Type, name AS Name, tbl_name AS TblName, sql AS Sql FROM sqlite_master " +
            "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND tbl_name <> @MigratorsTable", new { MigratorsTable }).ToList();
        foreach (var o in objects.Where(o => o.Type is "table" or "view"))
        {
            facts.Add($"{o.Type} {o.Name}");
            var columns = c.Query<SqliteColumn>(
                "SELECT name AS Name, type AS Type, \"notnull\" AS \"NotNull\", dflt_value AS DfltValue, pk AS Pk " +
                "FROM pragma_table_info(@Name) ORDER BY cid", new { o.Name }).ToList();
            facts.Add($"columns {o.Name}: {string.Join(", ", columns.Select(col => col.Name))}");
            var pk = columns.Where(col => col.Pk > 0).OrderBy(col => col.Pk).ToList();
            // INTEGER PRIMARY KEY in a rowid table is the rowid: never NULL, assigned when not given (an identity).
            // Not when it is also a foreign key (receipt_cancels.page_id): then it is always given, copied from the row
            // it refers to, and PostgreSQL has no identity to hand out numbers nobody uses.
            var foreignKeys = c.Query<string>("SELECT \"from\" FROM pragma_foreign_key_list(@Name)", new { o.Name }).ToHashSet();
            var rowid = o.Type == "table" && pk.Count == 1 && pk[0].Type.Equals("INTEGER", StringComparison.OrdinalIgnoreCase)
                        && !o.Sql!.Contains("WITHOUT ROWID", StringComparison.OrdinalIgnoreCase) && !foreignKeys.Contains(pk[0].Name);
            foreach (var col in columns)
            {
                // A primary key column is NOT NULL in PostgreSQL whatever it says (SQLite's rowid tables allow NULL).
                facts.Add(Column(o.Name, col.Name, col.Type.ToUpperInvariant(), col.NotNull != 0 || col.Pk > 0,
                    rowid && col.Pk > 0, col.DfltValue));
            }
            if (o.Type == "view") continue;
            if (pk.Count > 0) facts.Add($"primary key {o.Name}({string.Join(", ", pk.Select(col => col.Name))})");
            foreach (var u in c.Query<string>("SELECT name FROM pragma_index_list(@Name) WHERE origin = 'u'", new { o.Name }))
                facts.Add($"unique {o.Name}({IndexColumns(c, u)})");
            foreach (var fk in c.Query<(long Id, string Table, string From, string To)>(
                         "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(@Name) ORDER BY id, seq", new { o.Name })
                         .GroupBy(fk => fk.Id))
            {
                facts.Add($"foreign key {o.Name}({string.Join(", ", fk.Select(f => f.From))}) references " +
                          $"{fk.First().Table}({string.Join(", ", fk.Select(f => f.To))})");
            }
            facts.Add($"checks {o.Name}: {Check().Count(Comment().Replace(o.Sql!, ""))}");
        }
        foreach (var o in objects.Where(o => o.Type == "index" && o.Sql is not null))
        {
            var (unique, partial) = c.QuerySingle<(long, long)>(
                "SELECT \"unique\", partial FROM pragma_index_list(@TblName) WHERE name = @Name", new { o.TblName, o.Name });
            facts.Add(Index(o.Name, o.TblName, IndexColumns(c, o.Name), unique != 0, partial != 0));
        }
        foreach (var o in objects.Where(o => o.Type == "trigger"))
        {
            var m = Trigger().Match(o.Sql!);
            if (!m.Success) throw new InvalidOperationException($"cannot read trigger {o.Name}: {o.Sql}");
            var timing = m.Groups[1].Success ? Regex.Replace(m.Groups[1].Value.Trim(), @"\s+", " ").ToLowerInvariant() : "before";
            facts.Add($"trigger {o.Name} on {o.TblName}: {timing} {m.Groups[2].Value.ToLowerInvariant()}");
        }
        return facts;
    }

    private static string IndexColumns(DbConnection c, string index) => string.Join(", ",
        c.Query<string?>("SELECT name FROM pragma_index_info(@index) ORDER BY seqno", new { index }).Select(n => n ?? "expr"));

    private sealed record PgColumn(string TableName, string ColumnName, string DataType, string IsNullable, string? ColumnDefault,
        string IsIdentity, string? CollationName);

    private sealed record PgConstraint(string Contype, string TableName, string Cols, string? RefTable, string? RefCols);

    private const string Here = "relnamespace = current_schema()::text::regnamespace";

    private static string KeyNames(string keys, string relid) =>
        $"(SELECT string_agg(COALESCE(a.attname::text, 'expr'), ', ' ORDER BY k.ord) FROM unnest({keys}) WITH ORDINALITY k(attnum, ord) " +
        $"LEFT JOIN pg_attribute a ON a.attrelid = {relid} AND a.attnum = k.attnum)";

    public static SortedSet<string> FromPostgres(DbConnection c)
    {
        var facts = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (name, type) in c.Query<(string, string)>(
                     "SELECT table_name::text, table_type::text FROM information_schema.tables WHERE table_schema = current_schema()"))
            facts.Add($"{(type == "VIEW" ? "view" : "table")} {name}");
        var columns = c.Query<PgColumn>(
            "SELECT table_name::text AS TableName, column_name::text AS ColumnName, data_type::text AS DataType, " +
            "is_nullable::text AS IsNullable, column_default::text AS ColumnDefault, is_identity::text AS IsIdentity, " +
            "collation_name::text AS CollationName " +
            "FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position").ToList();
        foreach (var table in columns.GroupBy(col => col.TableName))
        {
            facts.Add($"columns {table.Key}: {string.Join(", ", table.Select(col => col.ColumnName))}");
            foreach (var col in table)
            {
                var type = col.DataType switch
                {
                    "bigint" => "INTEGER",
                    "text" when col.CollationName == "C" => "TEXT",
                    "text" => $"TEXT COLLATE {col.CollationName ?? "(the database's)"}",
                    "double precision" => "REAL",
                    "bytea" => "BLOB",
                    var other => other,
                };
                var dflt = col.ColumnDefault is null ? null : Cast().Replace(col.ColumnDefault, "");
                facts.Add(Column(table.Key, col.ColumnName, type, col.IsNullable == "NO", col.IsIdentity == "YES", dflt));
            }
        }
        var constraints = c.Query<PgConstraint>(
            $"SELECT con.contype::text AS Contype, rel.relname::text AS TableName, {KeyNames("con.conkey", "con.conrelid")} AS Cols, " +
            $"ref.relname::text AS RefTable, {KeyNames("con.confkey", "con.confrelid")} AS RefCols " +
            "FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid LEFT JOIN pg_class ref ON ref.oid = con.confrelid " +
            $"WHERE rel.{Here}").ToList();
        foreach (var k in constraints)
        {
            switch (k.Contype)
            {
                case "p": facts.Add($"primary key {k.TableName}({k.Cols})"); break;
                case "u": facts.Add($"unique {k.TableName}({k.Cols})"); break;
                case "f": facts.Add($"foreign key {k.TableName}({k.Cols}) references {k.RefTable}({k.RefCols})"); break;
            }
        }
        // Every table has a checks fact, as in SQLite, so "checks t: 0" against "checks t: 1" names the missing one.
        foreach (var t in facts.Where(f => f.StartsWith("table ", StringComparison.Ordinal)).Select(f => f[6..]).ToList())
            facts.Add($"checks {t}: {constraints.Count(k => k.Contype == "c" && k.TableName == t)}");
        foreach (var (name, table, unique, partial, cols) in c.Query<(string, string, bool, bool, string)>(
                     $"SELECT i.relname::text, t.relname::text, ix.indisunique, ix.indpred IS NOT NULL, {KeyNames("ix.indkey::int2[]", "ix.indrelid")} " +
                     "FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid " +
                     $"WHERE t.{Here} AND NOT EXISTS (SELECT 1 FROM pg_constraint con " +
                     "WHERE con.conindid = ix.indexrelid AND con.contype IN ('p', 'u', 'x'))"))
            facts.Add(Index(name, table, cols, unique, partial));
        foreach (var (name, table, type) in c.Query<(string, string, int)>(
                     $"SELECT tg.tgname::text, t.relname::text, tg.tgtype::int FROM pg_trigger tg JOIN pg_class t ON t.oid = tg.tgrelid " +
                     $"WHERE NOT tg.tgisinternal AND t.{Here}"))
        {
            // pg_trigger.tgtype bits: 1 row, 2 before, 4 insert, 8 delete, 16 update, 32 truncate, 64 instead of.
            var timing = (type & 2) != 0 ? "before" : (type & 64) != 0 ? "instead of" : "after";
            var events = new[] { (4, "insert"), (8, "delete"), (16, "update"), (32, "truncate") }.Where(e => (type & e.Item1) != 0).Select(e => e.Item2);
            facts.Add($"trigger {name} on {table}: {timing} {string.Join(" or ", events)}{((type & 1) == 0 ? " for each statement" : "")}");
        }
        return facts;
    }

    private static string Column(string table, string name, string type, bool notNull, bool identity, string? dflt) =>
        $"column {table}.{name}: {type}{(notNull ? " not null" : "")}{(identity ? " identity" : "")}{(dflt is null ? "" : $" default {dflt}")}";

    private static string Index(string name, string table, string columns, bool unique, bool partial) =>
        $"{(unique ? "unique index" : "index")} {name} on {table}({columns}){(partial ? " partial" : "")}";
}
