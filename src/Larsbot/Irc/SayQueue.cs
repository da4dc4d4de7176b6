namespace Larsbot.Irc;

/// <summary>
/// Lines waiting to be said. Bounded so a long outage cannot eat memory; when full the oldest go, because for a
/// pager the latest state matters most. A line leaves the queue only once it has been written to the socket.
/// Paging lines (alerts, countdowns, pages) go ahead of chatter (command replies, reminders, reports): with the flood
/// throttle at about a line a second, a ten-line `lars help` must not hold an URGENT line for ten seconds. Each kind
/// keeps its own order, and chatter is dropped first when the queue is full.
/// </summary>
internal sealed class SayQueue(int limit)
{
    private readonly LinkedList<SayLine> _paging = new();
    private readonly LinkedList<SayLine> _chatter = new();
    private readonly Lock _lock = new();
    private readonly int _limit = Math.Max(1, limit);
    private long _droppedUnreported;

    public int Count
    {
        get { lock (_lock) return _paging.Count + _chatter.Count; }
    }

    /// <summary>
    /// Adds a line. Returns true when this started dropping lines (the first drop since the last
    /// <see cref="TakeDroppedCount"/>), so a long outage logs once rather than once per line.
    /// </summary>
    public bool Enqueue(string text, bool paging = false)
    {
        lock (_lock)
        {
            var startedDropping = false;
            while (_paging.Count + _chatter.Count >= _limit)
            {
                (_chatter.Count > 0 ? _chatter : _paging).RemoveFirst();
                startedDropping |= _droppedUnreported == 0;
                _droppedUnreported++;
            }
            (paging ? _paging : _chatter).AddLast(new SayLine(text));
            return startedDropping;
        }
    }

    /// <summary>The next line to send: the oldest paging line, else the oldest chatter.</summary>
    public bool TryPeek(out SayLine line)
    {
        lock (_lock)
        {
            line = (_paging.First ?? _chatter.First)?.Value!;
            return line is not null;
        }
    }

    /// <summary>Removes a sent line, unless it was already dropped to make room.</summary>
    public void Remove(SayLine line)
    {
        lock (_lock)
            if (!_paging.Remove(line)) _chatter.Remove(line);
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
