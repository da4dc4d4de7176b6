using System.Data.Common;

namespace Larsbot.Storage;

/// <summary>
/// A read connection of its own with statements prepared once, for a hot read that must not hold the write lock: the
/// paging engine's read of the fresh alerts on PostgreSQL, beside intake commits. One caller at a time (the engine's gate).
/// </summary>
public sealed class PreparedReader(Database db) : IDisposable
{
    private DbConnection? _connection;
    private readonly StatementCache _statements = new(db.IsPostgres);

    /// <summary>Runs <paramref name="read"/> on the statement; after a database error the connection is opened afresh next time.</summary>
    public T Read<T>(string sql, string[] parameterNames, Func<DbCommand, T> read)
    {
        try
        {
            _connection ??= db.Open();
            return read(_statements.Get(_connection, null, sql, parameterNames));
        }
        catch (Exception e) when (Database.IsDatabaseFault(e))
        {
            Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _statements.Clear();
        _connection?.Dispose();
        _connection = null;
    }
}
