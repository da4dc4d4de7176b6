using Larsbot.Notify;

namespace Larsbot.Tests.Support;

/// <summary>
/// A notifier the test holds: every send waits until <see cref="Release"/>, so a test can act (ack, kill) while pages
/// are on the wire. Pushes can answer with a Pushover emergency receipt; receipt cancels are recorded.
/// </summary>
public sealed class GatedNotifier(string channel, bool receipts = false) : INotifier, IReceiptCanceller
{
    private readonly List<PageMessage> _calls = [];
    private readonly List<string> _cancels = [];
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _n;

    public string Channel => channel;

    public IReadOnlyList<PageMessage> Calls { get { lock (_calls) return [.. _calls]; } }

    public IReadOnlyList<string> Cancels { get { lock (_calls) return [.. _cancels]; } }

    /// <summary>Lets every held send (and every later one) answer.</summary>
    public void Release() => _gate.TrySetResult();

    public async Task<SendResult> SendAsync(PageMessage message, CancellationToken cancellationToken)
    {
        int n;
        lock (_calls)
        {
            _calls.Add(message);
            n = ++_n;
        }
        await _gate.Task.WaitAsync(cancellationToken);
        var id = $"{channel}-{n}";
        return SendResult.Sent(id, "200") with { Receipt = receipts ? "r" + id : null };
    }

    public Task<SendResult> CancelAsync(string receipt, CancellationToken cancellationToken)
    {
        lock (_calls) _cancels.Add(receipt);
        return Task.FromResult(SendResult.Sent(receipt, "200 cancelled"));
    }
}
