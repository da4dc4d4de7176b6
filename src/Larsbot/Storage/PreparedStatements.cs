using Dapper;
using System.Data.Common;

namespace Larsbot.Storage;

/// <summary>Runs a <see cref="Database.Statement"/> with values bound by position (null binds NULL).</summary>
public static class PreparedStatements
{
    private static DbCommand Bind(DbCommand cmd, object?[] values)
    {
        if (values.Length != cmd.Parameters.Count)
            throw new ArgumentException($"{cmd.Parameters.Count} value(s) needed, {values.Length} given: {cmd.CommandText}");
        for (var i = 0; i < values.Length; i++) cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
        return cmd;
    }

    public static int Run(this DbCommand cmd, params object?[] values) => Bind(cmd, values).ExecuteNonQuery();

    public static long? Long(this DbCommand cmd, params object?[] values) =>
        Bind(cmd, values).ExecuteScalar() switch
        {
            long v => v,
            int v => v,
            decimal v => (long)v, // PostgreSQL's SUM of bigints
            _ => null,
        };

    /// <summary>
    /// Rows mapped by the row parser <paramref name="parser"/> gives for this reader: the caller writes
    /// <c>r =&gt; r.GetRowParser&lt;TheRow&gt;()</c>, so Dapper.AOT generates that mapping at build time (column names to
    /// properties, as everywhere else); a generic call here could not be generated.
    /// </summary>
    public static List<T> Rows<T>(this DbCommand cmd, Func<DbDataReader, Func<DbDataReader, T>> parser, params object?[] values)
    {
        var rows = new List<T>();
        using var reader = Bind(cmd, values).ExecuteReader();
        if (!reader.HasRows && reader.FieldCount == 0) return rows;
        var parse = parser(reader);
        while (reader.Read()) rows.Add(parse(reader));
        return rows;
    }
}
