using Larsbot.Paging;
using System.Threading.Channels;
using Larsbot.Storage;
using System.Data.Common;

namespace Larsbot.Intake;

/// <summary>A validated alert waiting to be committed.</summary>
public sealed record NewAlert(long ReceivedAt, string Source, string Host, string Level, string Message, string? Key = null)
{
    /// <summary>
    /// An info alert without a key is stored already handled ('recorded'): it is never said or paged, and without a
    /// key nothing can resolve it, so the engine has nothing to decide. Repeats of it are rows of their own (the info
    /// digest lists a text once, with how often it was seen). Keyed info alerts still go through the engine, whose
    /// key dedup and resolve they take part in.
    /// </summary>
    public bool RecordedAtIntake => Level == "info" && Key is null;
}

/// <summary>
/// Group commit: alerts arriving together share one transaction (up to <see cref="MaxBatch"/>), and each caller is
/// answered only once its row is committed, so "202" still means "on disk". An alert that finds the writer idle is
/// committed on its own request's thread, taking along whatever is queued (no hop between threads: at one request at
/// a time the hops cost more than the commit). One that finds the writer busy queues, and the next commit takes it.
/// </summary>
public sealed class AlertBatcher : IAsyncDisposable
{
    public const int MaxBatch = 256;
    private const string Insert =
        "INSERT INTO alerts(received_at, source, host, level, message, message_raw, dedup_key, handled_at, disposition) " +
        "VALUES ($at, $source, $host, $level, $text, $raw, $key, $handled, $disposition) RETURNING id";

    private readonly Database _db;
    private readonly Channel<(NewAlert Alert, TaskCompletionSource<long> Done)> _queue =
        Channel.CreateUnbounded<(NewAlert, TaskCompletionSource<long>)>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Task _loop;
    private volatile bool _disposed;

    private long _commits, _rows;

    /// <summary>Transactions committed so far, and the alerts in them: their ratio is the group-commit batch size.</summary>
    public (long Commits, long Rows) Stats => (Interlocked.Read(ref _commits), Interlocked.Read(ref _rows));

    public AlertBatcher(Database db, HandledMark? mark = null)
    {
        _db = db;
        Mark = mark ?? new HandledMark(db);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The engine's handled mark, moved past a commit of alerts recorded here that directly follows it.</summary>
    public HandledMark Mark { get; }

    /// <summary>Commits the alert (with whatever else is waiting) and returns its id; throws what the database threw.</summary>
    public Task<long> InsertAsync(NewAlert alert)
    {
        if (_disposed) return Task.FromException<long>(new ObjectDisposedException(nameof(AlertBatcher)));
        var batch = new List<(NewAlert Alert, TaskCompletionSource<long>? Done)>();
        long[] ids;
        try
        {
            if (!_db.TryWriteNow((c, tx) =>
                {
                    // Queued first: they arrived earlier.
                    while (batch.Count < MaxBatch - 1 && _queue.Reader.TryRead(out var queued)) batch.Add(queued);
                    batch.Add((alert, null));
                    return InsertAll(tx, batch);
                }, out ids))
            {
                var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
                if (!_queue.Writer.TryWrite((alert, done))) done.SetException(new ObjectDisposedException(nameof(AlertBatcher)));
                return done.Task;
            }
        }
        catch (Exception e)
        {
            // Nothing in this batch was committed: every caller hears so and answers 503.
            foreach (var (_, d) in batch) d?.TrySetException(e);
            return Task.FromException<long>(e);
        }
        Committed(batch.Count);
        for (var i = 0; i < batch.Count - 1; i++) batch[i].Done!.TrySetResult(ids[i]);
        return Task.FromResult(ids[^1]);
    }

    private long[] InsertAll<TDone>(DbTransaction tx, List<(NewAlert Alert, TDone Done)> batch)
    {
        var insert = _db.Statement(tx, Insert, "$at", "$source", "$host", "$level", "$text", "$raw", "$key", "$handled", "$disposition");
        var p = insert.Parameters;
        var result = new long[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var a = batch[i].Alert;
            p[0].Value = a.ReceivedAt;
            p[1].Value = a.Source;
            p[2].Value = a.Host;
            p[3].Value = a.Level;
            // Microsoft.Data.Sqlite cuts longer strings at an embedded NUL: keep the exact bytes beside them.
            p[4].Value = a.Message.Replace("\0", "\\0");
            p[5].Value = a.Message.Contains('\0') ? System.Text.Encoding.UTF8.GetBytes(a.Message) : DBNull.Value;
            p[6].Value = (object?)a.Key ?? DBNull.Value;
            p[7].Value = a.RecordedAtIntake ? a.ReceivedAt : DBNull.Value;
            p[8].Value = a.RecordedAtIntake ? "recorded" : DBNull.Value;
            result[i] = Convert.ToInt64(insert.ExecuteScalar()!);
        }
        // The alerts recorded here (unkeyed info) at the start of this commit are handled already: a run of them right
        // after the engine's mark moves it once this commits (in commit order, before the next write), so the engine
        // does not read through them later (a flood of info can be long).
        var recorded = 0;
        while (recorded < batch.Count && batch[recorded].Alert.RecordedAtIntake) recorded++;
        if (recorded > 0 && !_db.IsPostgres)
        {
            var (first, last) = (result[0], result[recorded - 1]);
            _db.AfterCommit(tx, () => Mark.Skip(first, last));
        }
        return result;
    }

    private void Committed(int rows)
    {
        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _rows, rows);
    }

    private async Task RunAsync()
    {
        var batch = new List<(NewAlert Alert, TaskCompletionSource<long> Done)>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            // An inline commit may already have taken what woke this loop.
            if (_queue.Reader.Count == 0) continue;
            try
            {
                var ids = await _db.WriteAsync((c, tx) =>
                {
                    // Read inside the transaction: an inline commit may have taken these while this waited for the writer.
                    while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item)) batch.Add(item);
                    return Task.FromResult(batch.Count == 0 ? [] : InsertAll((DbTransaction)tx, batch));
                });
                if (batch.Count > 0) Committed(batch.Count);
                for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(ids[i]);
            }
            catch (Exception e)
            {
                // Nothing in this batch was committed: every caller hears so and answers 503.
                foreach (var (_, done) in batch) done.TrySetException(e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        _queue.Writer.TryComplete();
        await _loop;
    }
}
