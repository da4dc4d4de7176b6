using System.Data;
using Dapper;
using Larsbot.Storage;

namespace Larsbot.Duty;

/// <summary>Duty is the latest row of duty_changes: taking duty appends, nothing is overwritten.</summary>
public static class DutyStore
{
    public sealed class DutyChangeRow
    {
        public long Id { get; set; }
        public long At { get; set; }
        public string? PersonId { get; set; }
        public string ByNick { get; set; } = "";
        public string Kind { get; set; } = "";
    }

    public static Task<DutyChangeRow?> CurrentAsync(IDbConnection c, IDbTransaction? tx = null) =>
        c.QuerySingleOrDefaultAsync<DutyChangeRow>(
            "SELECT id, at, person_id, by_nick, kind FROM duty_changes ORDER BY id DESC LIMIT 1", transaction: tx);

    /// <summary>Every change, oldest first: who held duty from when (the ledger's stipends come from these).</summary>
    public static async Task<List<(long At, string? PersonId)>> ChangesAsync(IDbConnection c, IDbTransaction? tx = null) =>
        (await c.QueryAsync<DutyChangeAt>("SELECT at, person_id FROM duty_changes ORDER BY at, id", transaction: tx)).Select(r => (r.At, r.PersonId)).ToList();

    internal sealed class DutyChangeAt
    {
        public long At { get; set; }
        public string? PersonId { get; set; }
    }

    /// <summary>When duty was first taken (null: never).</summary>
    public static Task<long?> FirstChangeAtAsync(IDbConnection c, IDbTransaction? tx = null) =>
        c.ExecuteScalarAsync<long?>("SELECT MIN(at) FROM duty_changes", transaction: tx);

    public static Task RecordAsync(IDbConnection c, IDbTransaction tx, DateTimeOffset at, string? personId, string byNick, string kind) =>
        c.ExecuteAsync("INSERT INTO duty_changes(at, person_id, by_nick, kind) VALUES (@at, @personId, @byNick, @kind)",
            new { at = UnixMs.From(at), personId, byNick, kind }, tx);
}
