using System.Data.Common;
using System.Diagnostics;
using Dapper;
using Larsbot.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Larsbot.Leadership;

/// <summary>
/// Holds this instance's part in the lease (PostgreSQL only), on a connection of its own so a busy writer never delays
/// a renewal. A standby looks every <see cref="LeadershipOptions.RenewEvery"/> whether the lease has expired on the
/// database's clock and takes it if so; the leader renews it as often. A leader that cannot renew in time (or finds
/// another holder) gives up: <see cref="Role.LostLeadership"/>, and the host stops so a standby leads.
/// While leading it also listens for the other instances' commits (NOTIFY larsbot_wake), so an alert or an ack taken by
/// a standby is handled at once.
/// </summary>
public sealed class LeaseKeeper(Database db, Role role, IOptions<LeadershipOptions> options, ILogger<LeaseKeeper> log) : BackgroundService
{
    /// <summary>This process, in the wake-up calls it sends (two instances given one name must still wake each other).</summary>
    private string Me { get; } = $"{role.Name}#{Environment.ProcessId}";

    internal sealed class LeaseRow
    {
        public string Holder { get; set; } = "";
        public long RenewedAt { get; set; }
        public long ExpiresAt { get; set; }
        public long Now { get; set; }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var leaseMs = (long)o.LeaseFor.TotalMilliseconds;
        // Stop counting ourselves leader a renewal period before the database would let a standby in.
        var validTicks = (long)((o.LeaseFor - o.RenewEvery).TotalSeconds * Stopwatch.Frequency);
        DbConnection? conn = null;
        Task? listening = null;
        Task? watching = null;
        var failing = false;
        db.NotifyAs = Me; // a standby's commits wake the leader
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var t0 = Stopwatch.GetTimestamp();
                var leading = role.Led.IsCompleted;
                try
                {
                    conn ??= db.Open();
                    if (!leading)
                    {
                        if (await TryAcquireAsync(conn, leaseMs).WaitAsync(o.RenewEvery * 3, stoppingToken) is { } term)
                        {
                            role.Acquired(term, t0 + validTicks);
                            db.NotifyAs = null;
                            log.LogWarning("Leading now as {Name} (term {Term})", role.Name, term);
                            listening = ListenAsync(stoppingToken);
                            watching = WatchAsync(o.LeaseFor, stoppingToken);
                        }
                    }
                    else
                    {
                        // A renewal that hangs (a cut connection) must not outlive the lease: it gives up at the lease's end.
                        if (!await RenewAsync(conn, leaseMs).WaitAsync(role.ValidFor, stoppingToken))
                        {
                            role.Lose("another instance holds the lease");
                            return;
                        }
                        role.Renewed(t0 + validTicks);
                    }
                    if (failing) log.LogInformation("The lease is reachable again");
                    failing = false;
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is TimeoutException || Database.IsDatabaseFault(e))
                {
                    if (!failing) log.LogWarning("Cannot reach the lease: {Error}", e.Message);
                    failing = true;
                    // Closing a connection whose peer has gone silent can itself wait: never here.
                    var dead = conn;
                    _ = Task.Run(() => dead?.Dispose(), CancellationToken.None);
                    conn = null;
                }
                if (leading && !role.IsLeader)
                {
                    role.Lose($"could not renew the lease within {o.LeaseFor.TotalSeconds:0.#} s");
                    return;
                }
                var wait = o.RenewEvery - Stopwatch.GetElapsedTime(t0);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // A clean stop hands over at once instead of after the lease runs out.
            if (role.IsLeader && conn is not null) await ReleaseAsync(conn);
            conn?.Dispose();
            if (listening is not null) await listening.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (watching is not null) await watching.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// While leading: gives up the moment the lease's local validity ends without a renewal, whatever the renewal is
    /// doing (a call into a silent network can hang far longer than the lease lasts).
    /// </summary>
    private async Task WatchAsync(TimeSpan leaseFor, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var left = role.ValidFor;
                if (left <= TimeSpan.Zero)
                {
                    role.Lose($"could not renew the lease within {leaseFor.TotalSeconds:0.#} s");
                    return;
                }
                await Task.Delay(left + TimeSpan.FromMilliseconds(1), ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The new term if the lease was free (never taken, or expired on the database's clock); null if another leads.</summary>
    private async Task<long?> TryAcquireAsync(DbConnection c, long leaseMs)
    {
        await using var tx = await c.BeginTransactionAsync();
        var row = await c.QuerySingleOrDefaultAsync<LeaseRow>(
            "SELECT holder, renewed_at, expires_at, " + Role.DbNowMs + " AS now FROM leader_lease WHERE id = 1 FOR UPDATE", transaction: tx);
        var now = row?.Now ?? await c.ExecuteScalarAsync<long>("SELECT " + Role.DbNowMs, transaction: tx);
        if (row is not null && row.ExpiresAt > now)
        {
            role.SeenLeader = (row.Holder, row.RenewedAt, now);
            return null;
        }
        var term = await c.ExecuteScalarAsync<long?>("""
            INSERT INTO leader_lease(id, holder, term, acquired_at, renewed_at, expires_at) VALUES (1, @name, 1, @now, @now, @expires)
            ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, term = leader_lease.term + 1, acquired_at = excluded.acquired_at,
                renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
            WHERE leader_lease.expires_at <= excluded.acquired_at
            RETURNING term
            """, new { name = role.Name, now, expires = now + leaseMs }, tx);
        if (term is null) return null;
        await c.ExecuteAsync("""
            INSERT INTO leader_terms(term, holder, started_at, previous, previous_seen_at) VALUES (@term, @name, @now, @previous, @seen)
            ON CONFLICT DO NOTHING
            """, new { term, name = role.Name, now, previous = row?.Holder, seen = row?.RenewedAt }, tx);
        await tx.CommitAsync();
        return term;
    }

    /// <summary>False when the lease is no longer this term's (expired, or taken): then this instance must stop leading.</summary>
    private async Task<bool> RenewAsync(DbConnection c, long leaseMs) =>
        await c.ExecuteAsync(
            "UPDATE leader_lease SET renewed_at = " + Role.DbNowMs + ", expires_at = " + Role.DbNowMs + " + @leaseMs " +
            "WHERE id = 1 AND holder = @name AND term = @term AND expires_at > " + Role.DbNowMs,
            new { leaseMs, name = role.Name, term = role.Term }) == 1;

    private async Task ReleaseAsync(DbConnection c)
    {
        try
        {
            await c.ExecuteAsync("UPDATE leader_lease SET expires_at = " + Role.DbNowMs + " WHERE id = 1 AND holder = @name AND term = @term",
                new { name = role.Name, term = role.Term }).WaitAsync(TimeSpan.FromSeconds(2));
            log.LogInformation("Lease released: a standby can lead at once");
        }
        catch (Exception e) when (e is TimeoutException || Database.IsDatabaseFault(e))
        {
            log.LogWarning("Could not release the lease ({Error}); a standby leads once it expires", e.Message);
        }
    }

    /// <summary>While leading: the other instances' commits wake the engine and the sender (a missed one: at reconnect).</summary>
    private async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested && role.IsLeader)
        {
            try
            {
                await using var c = (NpgsqlConnection)db.Open();
                c.Notification += (_, e) =>
                {
                    if (e.Payload != Me) role.OnRemoteWrite();
                };
                await c.ExecuteAsync("LISTEN " + Database.WakeChannel);
                role.OnRemoteWrite(); // whatever was committed before this LISTEN
                while (!ct.IsCancellationRequested) await c.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is TimeoutException || Database.IsDatabaseFault(e))
            {
                log.LogWarning("Listening for the other instances' commits failed ({Error}); again in 1 s", e.Message);
                try { await Task.Delay(TimeSpan.FromSeconds(1), ct); }
                catch (OperationCanceledException) { return; }
            }
        }
    }
}
