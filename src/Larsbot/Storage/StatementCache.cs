using Microsoft.Data.Sqlite;

namespace Larsbot.Storage;

/// <summary>
/// Statements prepared once per connection, keyed by their SQL: for SQL that runs once per alert or once per engine
/// pass, where parsing and planning it every time cost more than running it. Not thread-safe: its owner serialises use.
/// </summary>
internal sealed class StatementCache
{
    private readonly Dictionary<string, SqliteCommand> _statements = new(StringComparer.Ordinal);

    /// <summary>The prepared statement for <paramref name="sql"/> on <paramref name="c"/>; parameters bind by position, in <paramref name="parameterNames"/> order.</summary>
    public SqliteCommand Get(SqliteConnection c, SqliteTransaction? tx, string sql, string[] parameterNames)
    {
        if (!_statements.TryGetValue(sql, out var cmd))
        {
            cmd = c.CreateCommand();
            cmd.CommandText = sql;
            foreach (var name in parameterNames) cmd.Parameters.Add(new SqliteParameter(name, null));
            cmd.Transaction = tx;
            cmd.Prepare();
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
}
