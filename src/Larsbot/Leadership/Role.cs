using System.Data;
using System.Diagnostics;
using Dapper;

namespace Larsbot.Leadership;

/// <summary>A leader's write after its lease ran out: it is refused, and the instance stops (the standby leads).</summary>
public sealed class LeadershipLostException(string message) : Exception(message);

/// <summary>
/// Whether this instance leads. With SQLite it always does (<see cref="Sole"/>). With PostgreSQL the
/// <see cref="LeaseKeeper"/> holds a lease the database enforces: this instance counts itself the leader only until
/// <c>(start of its last successful renewal) + LeaseFor - margin</c> on its own monotonic clock, and the database lets
/// a standby take the lease only after <c>(that renewal, on the database's clock) + LeaseFor</c>; so a leader that cannot
/// renew (dead, paused, cut off) has stopped counting itself leader before any standby starts. Every write that acts as
/// leader (an engine pass, the claim of a page to send) also checks the lease in its own transaction
/// (<see cref="FenceAsync"/>).
/// </summary>
public sealed class Role
{
    /// <summary>Unix ms on the database's own clock (PostgreSQL): every lease time is on it, none on an instance's.</summary>
    public const string DbNowMs = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint";

    private readonly TaskCompletionSource _led = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _validUntil;
    private int _lost;

    private Role(string name, bool shared)
    {
        Name = name;
        Shared = shared;
    }

    /// <summary>The one instance of a SQLite file: always the leader, nothing to check.</summary>
    public static Role Sole(string name = "larsbot")
    {
        var r = new Role(name, shared: false) { Term = 0 };
        r._validUntil = long.MaxValue;
        r._led.SetResult();
        return r;
    }

    /// <summary>One of several instances on a shared database: a standby until the <see cref="LeaseKeeper"/> wins the lease.</summary>
    public static Role Contender(string name) => new(name, shared: true);

    public string Name { get; }

    /// <summary>True when instances share the database and leadership is a lease.</summary>
    public bool Shared { get; }

    /// <summary>The lease's term while this instance leads (one more with every new leader); 0 for a sole instance.</summary>
    public long Term { get; private set; }

    public bool IsLeader => Volatile.Read(ref _lost) == 0 && Stopwatch.GetTimestamp() < Volatile.Read(ref _validUntil);

    /// <summary>How long this instance may still act as leader without another renewal (zero when it does not lead).</summary>
    internal TimeSpan ValidFor =>
        IsLeader ? TimeSpan.FromSeconds((double)(Volatile.Read(ref _validUntil) - Stopwatch.GetTimestamp()) / Stopwatch.Frequency) : TimeSpan.Zero;

    /// <summary>The start of the last leader-only service queued behind <see cref="Led"/> (LeaderGate keeps their order).</summary>
    internal Task LastGatedStart { get; set; } = Task.CompletedTask;

    /// <summary>Completes when this instance becomes the leader.</summary>
    public Task Led => _led.Task;

    /// <summary>While a standby: who leads, and when the database last saw it renew (for /health).</summary>
    public (string Name, long RenewedAtMs, long NowMs)? SeenLeader { get; internal set; }

    /// <summary>Raised once, when a leader finds its lease gone: the host stops, so a standby leads.</summary>
    public event Action<string>? LostLeadership;

    /// <summary>Another instance committed a write (an alert, an ack): the leader's engine and sender should look now.</summary>
    public event Action? RemoteWrite;

    internal void Acquired(long term, long validUntil)
    {
        Term = term;
        Volatile.Write(ref _validUntil, validUntil);
        SeenLeader = null;
        _led.TrySetResult();
    }

    internal void Renewed(long validUntil) => Volatile.Write(ref _validUntil, validUntil);

    internal void Lose(string why)
    {
        if (Interlocked.Exchange(ref _lost, 1) == 1) return;
        LostLeadership?.Invoke(why);
    }

    internal void OnRemoteWrite() => RemoteWrite?.Invoke();

    /// <summary>
    /// In a write that acts as leader: refuses it (and gives up leadership) unless this instance still holds the lease
    /// on the database's clock, in this very transaction. A no-op for a sole instance.
    /// </summary>
    public async Task FenceAsync(IDbConnection c, IDbTransaction tx)
    {
        if (!Shared) return;
        if (IsLeader)
        {
            var held = await c.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM leader_lease WHERE id = 1 AND holder = @name AND term = @term AND expires_at > " + DbNowMs,
                new { name = Name, term = Term }, tx);
            if (held == 1) return;
        }
        const string why = "this instance's lease is no longer held";
        Lose(why);
        throw new LeadershipLostException(why);
    }
}
