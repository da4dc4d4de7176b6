namespace Larsbot.Irc;

/// <summary>
/// Exponential backoff with jitter for reconnects. Jitter keeps a fleet of bots (or one bot and its restarted
/// server) from reconnecting in lockstep; the cap keeps a long outage from pushing retries out for hours.
/// </summary>
internal sealed class ReconnectBackoff(TimeSpan min, TimeSpan max, Random random)
{
    private int _failures;

    public void Reset() => _failures = 0;

    /// <summary>The delay before the next attempt: min·2^n capped at max, then scaled by a random 50–100%, never below min.</summary>
    public TimeSpan Next()
    {
        var lo = min > TimeSpan.Zero ? min : TimeSpan.Zero;
        var hi = max > lo ? max : lo;
        var exp = Math.Min(_failures, 30);
        _failures++;
        var baseDelay = TimeSpan.FromTicks((long)Math.Min(hi.Ticks, lo.Ticks * Math.Pow(2, exp)));
        var jittered = baseDelay * (0.5 + random.NextDouble() * 0.5);
        return jittered < lo ? lo : jittered;
    }
}
