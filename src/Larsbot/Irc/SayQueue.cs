namespace Larsbot.Irc;

/// <summary>
/// Lines waiting to be said. Bounded so a long outage cannot eat memory; when full the oldest go, because for a
/// pager the latest state matters most. A line leaves the queue only once it has been written to the socket.
/// </summary>
internal sealed class SayQueue(int limit)
{
    private readonly LinkedList<SayLine> _lines = new();
    private readonly Lock _lock = new();
    private readonly int _limit = Math.Max(1, limit);
    private long _droppedUnreported;

    public int Count
    {
        get { lock (_lock) return _lines.Count; }
    }

    /// <summary>
    /// Adds a line. Returns true when this started dropping lines (the first drop since the last
    /// <see cref="TakeDroppedCount"/>), so a long outage logs once rather than once per line.
    /// </summary>
    public bool Enqueue(string text)
    {
        lock (_lock)
        {
            var startedDropping = false;
            while (_lines.Count >= _limit)
            {
                _lines.RemoveFirst();
                startedDropping |= _droppedUnreported == 0;
                _droppedUnreported++;
            }
            _lines.AddLast(new SayLine(text));
            return startedDropping;
        }
    }

    public bool TryPeek(out SayLine line)
    {
        lock (_lock)
        {
            line = _lines.First?.Value!;
            return _lines.Count > 0;
        }
    }

    /// <summary>Removes a sent line, unless it was already dropped to make room.</summary>
    public void Remove(SayLine line)
    {
        lock (_lock)
            _lines.Remove(line);
    }

    /// <summary>Lines dropped since the last call, for a single log line instead of one per drop.</summary>
    public long TakeDroppedCount()
    {
        lock (_lock)
        {
            var n = _droppedUnreported;
            _droppedUnreported = 0;
            return n;
        }
    }
}

/// <summary>A reference type so removal after sending removes exactly the line that was sent.</summary>
internal sealed record SayLine(string Text)
{
    // Identity, not value: the same text said twice is two lines.
    public bool Equals(SayLine? other) => ReferenceEquals(this, other);
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}

/// <summary>Wakes a waiting loop. Callers take <see cref="WaitTask"/> before looking for work, so no Set is missed.</summary>
internal sealed class AsyncSignal
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Take this before checking for work, then await it, so a Set in between is not lost.</summary>
    public Task WaitTask
    {
        get { lock (_lock) return _tcs.Task; }
    }

    public void Set()
    {
        TaskCompletionSource old;
        lock (_lock)
        {
            old = _tcs;
            _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        old.TrySetResult();
    }
}
