namespace Larsbot.Irc;

/// <summary>
/// Lines waiting to be said. Bounded so a long outage cannot eat memory; when full the oldest go, because for a
/// pager the latest state matters most. A line leaves the queue only once it has been written to the socket.
/// Paging lines (alerts, countdowns, pages) go ahead of chatter (command replies, reminders, reports): with the flood
/// throttle at about a line a second, a ten-line `lars help` must not hold an URGENT line for ten seconds. Each kind
/// keeps its own order, and chatter is dropped first when the queue is full.
/// </summary>
/// <remarks>
/// Every line ends in exactly one answer on <see cref="SayLine.Said"/>: true once written, false when dropped to make
/// room, cancelled when withdrawn with <see cref="Cancel"/> before it was written. A line the sender is writing
/// (<see cref="TryBeginSend"/>) may still be dropped or withdrawn from the queue, but its answer waits for the write:
/// bytes that reached the socket were said, whatever happened to the queue meanwhile.
/// </remarks>
internal sealed class SayQueue(int limit)
{
    private readonly LinkedList<SayLine> _paging = new();
    private readonly LinkedList<SayLine> _chatter = new();
    private readonly Lock _lock = new();
    private readonly int _limit = Math.Max(1, limit);
    private long _droppedUnreported;
    private bool _closed;

    public int Count
    {
        get { lock (_lock) return _paging.Count + _chatter.Count; }
    }

    /// <summary>
    /// Adds a line. Returns true when this started dropping lines (the first drop since the last
    /// <see cref="TakeDroppedCount"/>), so a long outage logs once rather than once per line.
    /// </summary>
    public bool Enqueue(string text, bool paging = false) => Enqueue(new SayLine(text), paging);

    /// <inheritdoc cref="Enqueue(string, bool)"/>
    public bool Enqueue(SayLine line, bool paging)
    {
        lock (_lock)
        {
            if (line.Node is not null || line.Said.IsCompleted)
                throw new InvalidOperationException("A line is queued once.");
            if (_closed)
            {
                line.Settle(said: false);
                return false;
            }
            var startedDropping = false;
            while (_paging.Count + _chatter.Count >= _limit)
            {
                var oldest = (_chatter.Count > 0 ? _chatter : _paging).First!.Value;
                Unlink(oldest);
                if (!oldest.Sending)
                    oldest.Settle(said: false);
                startedDropping |= _droppedUnreported == 0;
                _droppedUnreported++;
            }
            line.Node = (paging ? _paging : _chatter).AddLast(line);
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

    /// <summary>
    /// Like <see cref="TryPeek"/>, and marks the line as being written: then <see cref="Remove"/> once it is written,
    /// or <see cref="NotWritten"/> if the write failed.
    /// </summary>
    public bool TryBeginSend(out SayLine line)
    {
        lock (_lock)
        {
            line = (_paging.First ?? _chatter.First)?.Value!;
            if (line is null)
                return false;
            line.Sending = true;
            return true;
        }
    }

    /// <summary>Removes a written line (unless it was already dropped to make room); it was said.</summary>
    public void Remove(SayLine line)
    {
        lock (_lock)
        {
            Unlink(line);
            line.Sending = false;
            line.Settle(said: true);
        }
    }

    /// <summary>
    /// The write failed (the connection went): the line stays queued for the next connection, unless it was dropped
    /// or withdrawn meanwhile, which is settled now.
    /// </summary>
    public void NotWritten(SayLine line)
    {
        lock (_lock)
        {
            line.Sending = false;
            if (line.CancelledBy is { } ct)
            {
                Unlink(line);
                line.SettleCancelled(ct);
            }
            else if (line.Node is null)
            {
                line.Settle(said: false);
            }
        }
    }

    /// <summary>
    /// Withdraws a line that has not been written, so it is never said. A line being written is left to the write's
    /// outcome: said if it was written, withdrawn if not.
    /// </summary>
    public void Cancel(SayLine line, CancellationToken ct)
    {
        lock (_lock)
        {
            if (line.Said.IsCompleted)
                return;
            if (line.Sending)
            {
                line.CancelledBy = ct;
                return;
            }
            Unlink(line);
            line.SettleCancelled(ct);
        }
    }

    /// <summary>The client is gone: every waiting line is answered "not said", and lines queued later too.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            foreach (var line in _paging.Concat(_chatter).ToList())
            {
                Unlink(line);
                if (!line.Sending)
                    line.Settle(said: false);
            }
        }
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

    private static void Unlink(SayLine line)
    {
        if (line.Node is { List: { } list } node)
            list.Remove(node);
        line.Node = null;
    }
}

/// <summary>
/// One line to say, and the answer for whoever waits for it. A reference type compared by identity, so removal after
/// sending removes exactly the line that was sent: the same text said twice is two lines.
/// </summary>
internal sealed class SayLine(string text)
{
    private readonly TaskCompletionSource<bool> _said = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Text { get; } = text;

    /// <summary>True once written to the socket, false if dropped to make room, cancelled if withdrawn before.</summary>
    public Task<bool> Said => _said.Task;

    // The queue's bookkeeping, only touched under its lock.
    internal LinkedListNode<SayLine>? Node { get; set; }
    internal bool Sending { get; set; }
    internal CancellationToken? CancelledBy { get; set; }

    internal void Settle(bool said) => _said.TrySetResult(said);

    internal void SettleCancelled(CancellationToken ct) => _said.TrySetCanceled(ct);
}
