using System.Data.Common;
using Dapper;
using Larsbot.Storage;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Storage;

/// <summary>
/// What a write that throws leaves behind: nothing of it committed, and a writer the next write can use. The writer is
/// opened afresh after a fault of the database or of the connection, and kept after an error of the work's own (an
/// InvalidOperationException on a connection that is open and out of its transaction): a fresh writer makes the engine
/// read every open key from the file again while intake waits, 1.5 s in a storm of a million alerts.
/// </summary>
public sealed class FailedWriteTests : IDisposable
{
    private readonly TempDatabase _temp = new();
    private readonly Database _db;

    public FailedWriteTests() => _db = _temp.Open();

    public void Dispose()
    {
        _db.Dispose();
        _temp.Dispose();
    }

    private Task<DbConnection> WriterAsync() => _db.WriteAsync((c, _) => Task.FromResult(c));

    private async Task<long> ProbesAsync()
    {
        await using var c = _db.Open();
        return await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM health_probe");
    }

    /// <summary>Writes a row, then throws what <paramref name="fail"/> does, inside one write.</summary>
    private Task WriteThenFailAsync(Func<DbConnection, DbTransaction, Task> fail) => _db.WriteAsync(async (c, tx) =>
    {
        await c.ExecuteAsync("INSERT INTO health_probe(id, at) VALUES (7, 1)", transaction: tx);
        await fail(c, (DbTransaction)tx);
        return true;
    });

    [Fact]
    public async Task A_query_that_finds_two_rows_where_the_work_expected_one_rolls_back_and_keeps_the_writer()
    {
        var before = await WriterAsync();
        await _db.WriteAsync((c, tx) => c.ExecuteAsync("INSERT INTO health_probe(id, at) VALUES (1, 1), (2, 1)", transaction: tx));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => WriteThenFailAsync(
            (c, tx) => c.QuerySingleAsync<long>("SELECT id FROM health_probe", transaction: tx)));

        Assert.Contains("more than one", e.Message);
        Assert.Equal(2, await ProbesAsync()); // the row the failed write added is not there
        Assert.Equal(1, _db.WriteFailures);
        Assert.Same(before, await WriterAsync());
        // And it writes as before.
        await _db.WriteAsync((c, tx) => c.ExecuteAsync("INSERT INTO health_probe(id, at) VALUES (3, 1)", transaction: tx));
        Assert.Equal(3, await ProbesAsync());
    }

    [Fact]
    public async Task A_write_whose_connection_was_closed_under_it_starts_the_next_write_on_a_fresh_one()
    {
        var before = await WriterAsync();

        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => WriteThenFailAsync((c, _) =>
        {
            c.Close(); // as a broken connection would be
            throw new InvalidOperationException("the connection is broken");
        }));

        var after = await WriterAsync();
        Assert.NotSame(before, after);
        await _db.WriteAsync((c, tx) => c.ExecuteAsync("INSERT INTO health_probe(id, at) VALUES (1, 1)", transaction: tx));
        Assert.Equal(1, await ProbesAsync());
    }

    [Fact]
    public async Task An_error_from_the_database_starts_the_next_write_on_a_fresh_connection()
    {
        var before = await WriterAsync();

        await Assert.ThrowsAnyAsync<DbException>(() => WriteThenFailAsync((c, tx) => c.ExecuteAsync("SELECT * FROM no_such_table", transaction: tx)));

        Assert.Equal(0, await ProbesAsync());
        Assert.NotSame(before, await WriterAsync());
    }

    [Fact]
    public async Task A_lone_intake_commit_that_throws_keeps_the_writer_as_well()
    {
        var before = await WriterAsync();

        Assert.Throws<InvalidOperationException>(() => _db.TryWriteNow<bool>((c, tx) =>
        {
            c.Execute("INSERT INTO health_probe(id, at) VALUES (1, 1), (2, 1)", transaction: tx);
            c.QuerySingle<long>("SELECT id FROM health_probe", transaction: tx);
            return true;
        }, out _));

        Assert.Equal(0, await ProbesAsync());
        Assert.Same(before, await WriterAsync());
    }
}
