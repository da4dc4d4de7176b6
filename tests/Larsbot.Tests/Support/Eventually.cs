using System.Diagnostics;

namespace Larsbot.Tests.Support;

/// <summary>
/// Waits for a state another task or process reaches and announces no event for (a row written, a line said, a
/// server listening): checks, then polls briefly, never a fixed sleep. The one poll-until loop in the tests.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DefaultEvery = TimeSpan.FromMilliseconds(20);

    /// <summary>Returns once <paramref name="condition"/> holds; throws a TimeoutException saying <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static Task TrueAsync(Func<bool> condition, TimeSpan? timeout = null, string what = "condition not reached", TimeSpan? every = null) =>
        TrueAsync(() => Task.FromResult(condition()), timeout, what, every);

    /// <inheritdoc cref="TrueAsync(Func{bool}, TimeSpan?, string, TimeSpan?)"/>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string what = "condition not reached", TimeSpan? every = null)
    {
        if (!await HoldsAsync(condition, timeout, every)) throw new TimeoutException($"{what} (waited {timeout ?? DefaultTimeout})");
    }

    /// <summary>
    /// Like <see cref="TrueAsync(Func{Task{bool}}, TimeSpan?, string, TimeSpan?)"/>, but says false on timeout instead of
    /// throwing, for a caller whose own assertions (or message) say best what went wrong. An exception from
    /// <paramref name="condition"/> ends the wait at once.
    /// </summary>
    public static async Task<bool> HoldsAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, TimeSpan? every = null)
    {
        var started = Stopwatch.GetTimestamp();
        while (!await condition())
        {
            if (Stopwatch.GetElapsedTime(started) > (timeout ?? DefaultTimeout)) return false;
            await Task.Delay(every ?? DefaultEvery);
        }
        return true;
    }

    /// <inheritdoc cref="HoldsAsync(Func{Task{bool}}, TimeSpan?, TimeSpan?)"/>
    public static Task<bool> HoldsAsync(Func<bool> condition, TimeSpan? timeout = null, TimeSpan? every = null) =>
        HoldsAsync(() => Task.FromResult(condition()), timeout, every);
}
