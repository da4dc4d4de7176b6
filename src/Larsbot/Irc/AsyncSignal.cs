namespace Larsbot.Irc;

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
