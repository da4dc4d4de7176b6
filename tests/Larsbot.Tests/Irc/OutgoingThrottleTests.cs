using Larsbot.Irc;
using Microsoft.Extensions.Time.Testing;

namespace Larsbot.Tests.Irc;

public class OutgoingThrottleTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Burst_passes_then_lines_are_spaced()
    {
        var throttle = new OutgoingThrottle(4, TimeSpan.FromSeconds(1), _time);

        for (var i = 0; i < 4; i++)
            Assert.Equal(TimeSpan.Zero, throttle.TryTake());
        Assert.Equal(TimeSpan.FromSeconds(1), throttle.TryTake());

        _time.Advance(TimeSpan.FromMilliseconds(400));
        Assert.Equal(TimeSpan.FromMilliseconds(600), throttle.TryTake());

        _time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.Equal(TimeSpan.Zero, throttle.TryTake());
        Assert.True(throttle.TryTake() > TimeSpan.Zero);
    }

    [Fact]
    public void Refill_never_exceeds_the_burst()
    {
        var throttle = new OutgoingThrottle(2, TimeSpan.FromSeconds(1), _time);
        _time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(TimeSpan.Zero, throttle.TryTake());
        Assert.Equal(TimeSpan.Zero, throttle.TryTake());
        Assert.True(throttle.TryTake() > TimeSpan.Zero);
    }

    [Fact]
    public async Task WaitAsync_completes_only_when_time_advances()
    {
        var throttle = new OutgoingThrottle(1, TimeSpan.FromSeconds(1), _time);
        await throttle.WaitAsync(CancellationToken.None);

        var waiting = throttle.WaitAsync(CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(waiting.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task WaitAsync_honours_cancellation()
    {
        var throttle = new OutgoingThrottle(1, TimeSpan.FromSeconds(1), _time);
        await throttle.WaitAsync(CancellationToken.None);
        using var cts = new CancellationTokenSource();

        var waiting = throttle.WaitAsync(cts.Token);
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public void Reset_refills_the_bucket()
    {
        var throttle = new OutgoingThrottle(3, TimeSpan.FromSeconds(1), _time);
        for (var i = 0; i < 3; i++)
            throttle.TryTake();
        throttle.Reset();
        Assert.Equal(TimeSpan.Zero, throttle.TryTake());
    }
}

public class ReconnectBackoffTests
{
    [Fact]
    public void Grows_exponentially_within_bounds_with_jitter()
    {
        var min = TimeSpan.FromSeconds(1);
        var max = TimeSpan.FromMinutes(5);
        var backoff = new ReconnectBackoff(min, max, new Random(7));

        var delays = Enumerable.Range(0, 20).Select(_ => backoff.Next()).ToList();

        Assert.All(delays, d => Assert.InRange(d, min, max));
        Assert.True(delays[5] > TimeSpan.FromSeconds(15)); // 32 s base, at least half of it
        Assert.True(delays[^1] >= max / 2);
        Assert.True(delays.Skip(10).Distinct().Count() > 1, "jitter should vary the capped delays");
    }

    [Fact]
    public void Reset_starts_over()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), new Random(7));
        for (var i = 0; i < 10; i++)
            backoff.Next();
        backoff.Reset();
        Assert.Equal(TimeSpan.FromSeconds(1), backoff.Next());
    }
}
