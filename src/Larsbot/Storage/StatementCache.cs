using System.Data.Common;
using System.Text.RegularExpressions;

namespace Larsbot.Storage;

/// <summary>
/// Statements prepared once per connection, keyed by their SQL: for SQL that runs once per alert or once per engine
/// pass, where parsing and planning it every time cost more than running it. Not thread-safe: its owner serialises use.
/// The SQL names its parameters SQLite's way (<c>$name</c>); on PostgreSQL they become Npgsql's <c>@name</c>, and
/// Npgsql prepares the statement on the server itself after its second use (Max Auto Prepare).
/// </summary>
internal sealed partial class StatementCache(bool postgres)
{
    private readonly Dictionary<string, DbCommand> _statements = new(StringComparer.Ordinal);

    /// <summary>The prepared statement for <paramref name="sql"/> on <paramref name="c"/>; parameters bind by position, in <paramref name="parameterNames"/> order.</summary>
    public DbCommand Get(DbConnection c, DbTransaction? tx, string sql, string[] parameterNames)
    {
        if (!_statements.TryGetValue(sql, out var cmd))
        {
            cmd = c.CreateCommand();
            cmd.CommandText = postgres ? DollarName().Replace(sql, "@$1") : sql;
            foreach (var name in parameterNames)
            {
                var p = cmd.CreateParameter();
                p.ParameterName = postgres ? "@" + name.TrimStart('$') : name;
                p.Value = DBNull.Value;
                cmd.Parameters.Add(p);
            }
            cmd.Transaction = tx;
            if (!postgres) cmd.Prepare();
            _statements[sql] = cmd;
        }
        cmd.Transaction = tx;
        return cmd;
    }

    /// <summary>Disposes every statement: call it before the connection they belong to is closed.</summary>
    public void Clear()
    {
        foreach (var cmd in _statements.Values) cmd.Dispose();
        _statements.Clear();
    }

    [GeneratedRegex(@"\$([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex DollarName();
}
