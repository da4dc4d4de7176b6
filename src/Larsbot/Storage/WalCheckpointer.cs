using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Storage;

/// <summary>
/// Copies the WAL back into the database file on its own connection and thread. Left to SQLite, the commit that
/// crosses 1,000 WAL pages does it, fsyncs included, while an intake request waits for its 202: that was most of the
/// intake's p99. A PASSIVE checkpoint never blocks a writer. The writer still checkpoints by itself past
/// <see cref="StorageOptions.WriterCheckpointPages"/>, so a stalled checkpointer cannot let the WAL grow without end.
/// </summary>
public sealed class WalCheckpointer(Database db, IOptions<StorageOptions> options, TimeProvider time, ILogger<WalCheckpointer> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = options.Value.CheckpointEvery;
        if (every <= TimeSpan.Zero || db.IsPostgres) return; // PostgreSQL checkpoints by itself
        await using var c = db.Open();
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            try
            {
                c.ExecuteScalar<long>("PRAGMA wal_checkpoint(PASSIVE)");
                if (failing) log.LogInformation("WAL checkpoints work again");
                failing = false;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or IOException)
            {
                // The writer's own checkpoint is the fallback; say it once, not every 200 ms.
                if (!failing) log.LogWarning(e, "WAL checkpoint failed; the writer will checkpoint by itself");
                failing = true;
            }
        }
    }
}
