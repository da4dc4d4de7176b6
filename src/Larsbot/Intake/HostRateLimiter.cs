using Microsoft.Extensions.Options;

namespace Larsbot.Intake;

/// <summary>
/// One token bucket per alert host (burst <see cref="IntakeOptions.PerHostBurst"/>, refilled at
/// <see cref="IntakeOptions.PerHostPerMinute"/>), on the injected clock. A refusal is counted per host so the
/// <see cref="FloodReporter"/> can say one line about it instead of the channel carrying hundreds.
/// </summary>
public sealed class HostRateLimiter
{
    // Beyond this many tracked hosts, buckets that are full again (quiet hosts) are forgotten, so random host names
    // from a hostile sender cannot grow memory without bound.
    private const int MaxTrackedHosts = 10_000;

    private readonly IntakeOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Refused> _refused = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _lock = new();

    public HostRateLimiter(IOptions<IntakeOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
    }

    /// <summary>Set when a host is first refused after being quiet: the reporter starts counting.</summary>
    public Paging.Signal FirstRefusal { get; } = new();

    private double PerSecond => _options.PerHostPerMinute / 60.0;

    /// <summary>Takes one token for <paramref name="host"/>; when none is left returns how long until one is.</summary>
    public TimeSpan? TryTake(string host, string level)
    {
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            if (!_buckets.TryGetValue(host, out var b))
            {
                if (_buckets.Count >= MaxTrackedHosts) Prune(now);
                b = new Bucket { Tokens = _options.PerHostBurst, At = now };
                _buckets[host] = b;
            }
            Refill(b, now);
            if (b.Tokens >= 1)
            {
                b.Tokens -= 1;
                return null;
            }
            var first = _refused.Count == 0;
            if (!_refused.TryGetValue(host, out var r)) _refused[host] = r = new Refused();
            r.Count++;
            if (level == "urgent") r.Urgent++;
            if (first) FirstRefusal.Set();
            return TimeSpan.FromSeconds(Math.Ceiling((1 - b.Tokens) / PerSecond));
        }
    }

    /// <summary>Refusals counted since the last call, per host (and how many of them were urgent).</summary>
    public IReadOnlyList<(string Host, int Count, int Urgent)> TakeRefused()
    {
        lock (_lock)
        {
            var list = _refused.Select(kv => (kv.Key, kv.Value.Count, kv.Value.Urgent)).OrderBy(x => x.Key, StringComparer.Ordinal).ToList();
            _refused.Clear();
            return list;
        }
    }

    private void Refill(Bucket b, long now)
    {
        var elapsed = _time.GetElapsedTime(b.At, now).TotalSeconds;
        b.Tokens = Math.Min(_options.PerHostBurst, b.Tokens + elapsed * PerSecond);
        b.At = now;
    }

    private void Prune(long now)
    {
        foreach (var (host, b) in _buckets.ToList())
        {
            Refill(b, now);
            if (b.Tokens >= _options.PerHostBurst) _buckets.Remove(host);
        }
        // Still full of busy hosts: drop the emptiest half rather than grow.
        if (_buckets.Count >= MaxTrackedHosts)
            foreach (var host in _buckets.OrderBy(kv => kv.Value.Tokens).Take(_buckets.Count / 2).Select(kv => kv.Key).ToList())
                _buckets.Remove(host);
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
