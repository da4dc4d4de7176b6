namespace Larsbot.Irc;

/// <summary>
/// Token bucket for lines we send: <c>burst</c> lines may go back to back, then one per <c>interval</c>. Servers
/// kill or fake-lag clients that flood, and a killed pager is worse than a slow one. PONG and registration lines do
/// not come through here: holding them back could cost us the connection.
/// </summary>
internal sealed class OutgoingThrottle
{
    private readonly int _burst;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private double _tokens;
    private long _stamp;

    public OutgoingThrottle(int burst, TimeSpan interval, TimeProvider time)
    {
        _burst = Math.Max(1, burst);
        _interval = interval > TimeSpan.Zero ? interval : TimeSpan.FromMilliseconds(1);
        _time = time;
        _tokens = _burst;
        _stamp = time.GetTimestamp();
    }

    /// <summary>Takes a token if one is available; otherwise returns how long until one will be.</summary>
    public TimeSpan TryTake()
    {
        lock (_lock)
        {
            Refill();
            if (_tokens >= 1)
            {
                _tokens -= 1;
                return TimeSpan.Zero;
            }
            return _interval * (1 - _tokens);
        }
    }

    /// <summary>Waits until a token is available and takes it.</summary>
    public async Task WaitAsync(CancellationToken ct)
    {
        while (true)
        {
            var wait = TryTake();
            if (wait <= TimeSpan.Zero)
                return;
            await Task.Delay(wait, _time, ct).ConfigureAwait(false);
        }
    }

    /// <summary>A fresh connection starts with a fresh allowance on the server side, so ours is full again too.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _tokens = _burst;
            _stamp = _time.GetTimestamp();
        }
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_stamp, now);
        _stamp = now;
        _tokens = Math.Min(_burst, _tokens + elapsed / _interval);
    }
}
