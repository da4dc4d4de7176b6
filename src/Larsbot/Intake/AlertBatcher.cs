using System.Threading.Channels;
using Larsbot.Storage;
using Microsoft.Data.Sqlite;

namespace Larsbot.Intake;

/// <summary>A validated alert waiting to be committed.</summary>
public sealed record NewAlert(long ReceivedAt, string Source, string Host, string Level, string Message, string? Key = null);

/// <summary>
/// Group commit: alerts arriving together share one transaction (up to <see cref="MaxBatch"/>), and each caller is
/// answered only once its row is committed, so "202" still means "on disk". Under load this turns thousands of
/// commits a second into a few hundred; alone, an alert is committed at once (no waiting to fill a batch).
/// </summary>
public sealed class AlertBatcher : IAsyncDisposable
{
    public const int MaxBatch = 256;
    private const string Insert =
        "INSERT INTO alerts(received_at, source, host, level, message, message_raw, dedup_key) VALUES ($at, $source, $host, $level, $text, $raw, $key) RETURNING id";

    private readonly Database _db;
    private readonly Channel<(NewAlert Alert, TaskCompletionSource<long> Done)> _queue =
        Channel.CreateUnbounded<(NewAlert, TaskCompletionSource<long>)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    public AlertBatcher(Database db)
    {
        _db = db;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Commits the alert (with whatever else is waiting) and returns its id; throws what the database threw.</summary>
    public Task<long> InsertAsync(NewAlert alert)
    {
        var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((alert, done))) done.SetException(new ObjectDisposedException(nameof(AlertBatcher)));
        return done.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<(NewAlert Alert, TaskCompletionSource<long> Done)>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item)) batch.Add(item);
            try
            {
                var ids = await _db.WriteAsync((c, tx) =>
                {
                    using var cmd = ((SqliteConnection)c).CreateCommand();
                    cmd.Transaction = (SqliteTransaction)tx;
                    cmd.CommandText = Insert;
                    var p = new[] { "$at", "$source", "$host", "$level", "$text", "$raw", "$key" }.Select(n => cmd.Parameters.Add(new SqliteParameter(n, null))).ToArray();
                    cmd.Prepare();
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
                        result[i] = (long)cmd.ExecuteScalar()!;
                    }
                    return Task.FromResult(result);
                });
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
        _queue.Writer.TryComplete();
        await _loop;
    }
}
