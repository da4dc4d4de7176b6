namespace Larsbot.Storage;

/// <summary>
/// Wakes a loop early ("something changed, look again"). Sets coalesce: many wakes before the loop looks are one.
/// </summary>
public class Signal
{
    private TaskCompletionSource _tcs = NewTcs();

    public void Set() => Volatile.Read(ref _tcs).TrySetResult();

    /// <summary>Waits until <see cref="Set"/> or until <paramref name="timeout"/> passes on <paramref name="time"/>'s clock.</summary>
    public async Task WaitAsync(TimeSpan? timeout, TimeProvider time, CancellationToken ct)
    {
        var tcs = Volatile.Read(ref _tcs);
        if (!tcs.Task.IsCompleted)
        {
            if (timeout is { } t)
            {
                if (t > TimeSpan.Zero)
                {
                    using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    var delay = Task.Delay(t, time, cts.Token);
                    await Task.WhenAny(tcs.Task, delay);
                    cts.Cancel();
                }
            }
            else
            {
                await tcs.Task.WaitAsync(ct);
            }
        }
        ct.ThrowIfCancellationRequested();
        // Re-arm only if it fired: a Set that lands between the check and here is then seen by the next wait.
        if (tcs.Task.IsCompleted) Interlocked.CompareExchange(ref _tcs, NewTcs(), tcs);
    }

    /// <summary>
    /// Waits until <see cref="Set"/> or until <paramref name="until"/> on <paramref name="time"/>'s clock. The moment is
    /// absolute: if the clock passes it while the timer is being made (a test's fake clock jumping, a stalled thread),
    /// the check after the timer exists sees it, instead of the timer counting from the later time.
    /// </summary>
    public async Task WaitUntilAsync(DateTimeOffset until, TimeProvider time, CancellationToken ct)
    {
        var tcs = Volatile.Read(ref _tcs);
        var left = until - time.GetUtcNow();
        if (!tcs.Task.IsCompleted && left > TimeSpan.Zero)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var delay = Task.Delay(left, time, cts.Token);
            if (time.GetUtcNow() < until) await Task.WhenAny(tcs.Task, delay);
            cts.Cancel();
        }
        ct.ThrowIfCancellationRequested();
        if (tcs.Task.IsCompleted) Interlocked.CompareExchange(ref _tcs, NewTcs(), tcs);
    }

    private static TaskCompletionSource NewTcs() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Wakes the paging engine: rows it reads changed (an alert stored, an ack, duty taken, IRC lost or back). Anyone who
/// writes such rows sets it; only the engine waits on it.
/// </summary>
public sealed class EngineWake : Signal;
