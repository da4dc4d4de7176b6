using System.Collections.Concurrent;

namespace Larsbot.Irc;

/// <summary>One TCP connection's worth of state; a reconnect starts from a fresh one.</summary>
internal sealed class IrcSession : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly TimeProvider _time;
    private long _lastReceived;

    public IrcSession(Stream stream, CancellationTokenSource cts, TimeProvider time)
    {
        Stream = stream;
        _cts = cts;
        _time = time;
        ConnectedAt = time.GetTimestamp();
        _lastReceived = ConnectedAt;
        LastNickRegain = ConnectedAt;
        Token = cts.Token;
    }

    public Stream Stream { get; }
    public CancellationToken Token { get; }
    public SemaphoreSlim WriteLock { get; } = new(1, 1);
    public ConcurrentQueue<string> Control { get; } = new();
    public HashSet<string> OfferedCaps { get; } = new(StringComparer.OrdinalIgnoreCase);
    public HashSet<string> AckedCaps { get; } = new(StringComparer.OrdinalIgnoreCase);
    public long ConnectedAt { get; }
    public long LastNickRegain { get; set; }
    public int NickAttempts { get; set; }
    public bool JoinPending { get; set; }
    public bool Whox { get; set; }
    public volatile bool PingSent;

    public TimeSpan Silence => _time.GetElapsedTime(Interlocked.Read(ref _lastReceived));

    public void MarkReceived()
    {
        Interlocked.Exchange(ref _lastReceived, _time.GetTimestamp());
        PingSent = false;
    }

    /// <summary>Stops the loops and closes the socket so a pending read returns at once.</summary>
    public void Abort()
    {
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        Stream.Dispose();
    }

    public void Dispose()
    {
        Abort();
        _cts.Dispose();
        WriteLock.Dispose();
    }
}
