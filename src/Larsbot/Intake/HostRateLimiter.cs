using Microsoft.Extensions.Options;

namespace Larsbot.Intake;

/// <summary>Over a limit: how long until a retry can pass, and whether the caller's bucket (not the host's) was empty.</summary>
public readonly record struct RateRefusal(TimeSpan Wait, bool ByCaller);

/// <summary>
/// Token buckets per alert host (burst <see cref="IntakeOptions.PerHostBurst"/>, refilled at
/// <see cref="IntakeOptions.PerHostPerMinute"/>) and per caller (<see cref="IntakeOptions.PerCallerBurst"/>,
/// <see cref="IntakeOptions.PerCallerPerMinute"/>; the caller is the token's name, else the remote address), on the
/// injected clock. An alert needs a token from both, so a sender cannot escape the limit by inventing host names.
/// A refusal is counted per host (or per caller, when the caller's bucket was the one empty) so the
/// <see cref="FloodReporter"/> can say one line about it instead of the channel carrying hundreds.
/// Hand-written rather than System.Threading.RateLimiting's TokenBucketRateLimiter: that one replenishes on its own
/// timer and cannot take a <see cref="TimeProvider"/>, and the tests drive these buckets with a fake clock.
/// </summary>
public sealed class HostRateLimiter
{
    // Beyond this many tracked hosts (or callers), buckets that are full again (quiet ones) are forgotten, so random
    // host names from a hostile sender cannot grow memory without bound.
    private const int MaxTracked = 10_000;

    private readonly IntakeOptions _options;
    private readonly TimeProvider _time;
    private readonly Buckets _hosts;
    private readonly Buckets _callers;
    private readonly Dictionary<(string Subject, bool IsCaller), Refused> _refused = [];
    private readonly Lock _lock = new();

    public HostRateLimiter(IOptions<IntakeOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        _hosts = new Buckets(_options.PerHostBurst, _options.PerHostPerMinute / 60.0, time);
        _callers = new Buckets(_options.PerCallerBurst, _options.PerCallerPerMinute / 60.0, time);
    }

    /// <summary>Set when a host is first refused after being quiet: the reporter starts counting.</summary>
    public Storage.Signal FirstRefusal { get; } = new();

    /// <summary>
    /// Takes one token for <paramref name="host"/> (null: no host bucket, e.g. a resolve by key) and one for
    /// <paramref name="caller"/> (null: not limited per caller); when either is empty, takes none and returns how
    /// long until both have one.
    /// </summary>
    public RateRefusal? TryTake(string? host, string level, string? caller = null) =>
        Take(host, caller, 1, level == "urgent" ? 1 : 0);

    /// <summary>
    /// Takes <paramref name="count"/> tokens from the caller's bucket at once (all or none; at most a full bucket,
    /// so a large batch can pass when the caller has been quiet). The Alertmanager door uses this per request.
    /// </summary>
    public RateRefusal? TryTakeMany(string caller, int count, int urgent) => Take(null, caller, Math.Max(1, count), urgent);

    private RateRefusal? Take(string? host, string? caller, int count, int urgent)
    {
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            var h = host is null ? null : _hosts.Get(host, now);
            var c = caller is null ? null : _callers.Get(caller, now);
            var hostCost = Math.Min(count, _options.PerHostBurst);
            var callerCost = Math.Min(count, _options.PerCallerBurst);
            var hostShort = h is not null && h.Tokens < hostCost;
            var callerShort = c is not null && c.Tokens < callerCost;
            if (!hostShort && !callerShort)
            {
                if (h is not null) h.Tokens -= hostCost;
                if (c is not null) c.Tokens -= callerCost;
                return null;
            }
            var first = _refused.Count == 0;
            var subject = hostShort ? (host!, false) : (caller!, true);
            if (!_refused.TryGetValue(subject, out var r)) _refused[subject] = r = new Refused();
            r.Count += count;
            r.Urgent += urgent;
            if (first) FirstRefusal.Set();
            var wait = Math.Max(hostShort ? _hosts.SecondsUntil(h!, hostCost) : 0, callerShort ? _callers.SecondsUntil(c!, callerCost) : 0);
            return new RateRefusal(TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(wait))), !hostShort);
        }
    }

    /// <summary>Refusals counted since the last call, per host or caller (and how many of them were urgent).</summary>
    public IReadOnlyList<(string Subject, bool IsCaller, int Count, int Urgent)> TakeRefused()
    {
        lock (_lock)
        {
            var list = _refused.Select(kv => (kv.Key.Subject, kv.Key.IsCaller, kv.Value.Count, kv.Value.Urgent))
                .OrderBy(x => x.IsCaller).ThenBy(x => x.Subject, StringComparer.Ordinal).ToList();
            _refused.Clear();
            return list;
        }
    }

    private sealed class Buckets(int burst, double perSecond, TimeProvider time)
    {
        private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.OrdinalIgnoreCase);

        public Bucket Get(string name, long now)
        {
            if (!_buckets.TryGetValue(name, out var b))
            {
                if (_buckets.Count >= MaxTracked) Prune(now);
                b = new Bucket { Tokens = burst, At = now };
                _buckets[name] = b;
            }
            Refill(b, now);
            return b;
        }

        public double SecondsUntil(Bucket b, int cost) => (cost - b.Tokens) / perSecond;

        private void Refill(Bucket b, long now)
        {
            var elapsed = time.GetElapsedTime(b.At, now).TotalSeconds;
            b.Tokens = Math.Min(burst, b.Tokens + elapsed * perSecond);
            b.At = now;
        }

        private void Prune(long now)
        {
            foreach (var (name, b) in _buckets.ToList())
            {
                Refill(b, now);
                if (b.Tokens >= burst) _buckets.Remove(name);
            }
            // Still full of busy ones: drop the emptiest half rather than grow.
            if (_buckets.Count >= MaxTracked)
                foreach (var name in _buckets.OrderBy(kv => kv.Value.Tokens).Take(_buckets.Count / 2).Select(kv => kv.Key).ToList())
                    _buckets.Remove(name);
        }
    }

    private sealed class Bucket
    {
        public double Tokens;
        public long At;
    }

    private sealed class Refused
    {
        public int Count;
        public int Urgent;
    }
}
