using Larsbot.Notify;

namespace Larsbot.Tests.Support;

/// <summary>A notifier that answers from a script (then Sent forever) and records every call.</summary>
public sealed class ScriptedNotifier(string channel, params SendResult[] script) : INotifier
{
    private readonly Queue<SendResult> _script = new(script);
    private readonly List<PageMessage> _calls = [];
    private int _n;

    public string Channel => channel;

    public IReadOnlyList<PageMessage> Calls
    {
        get { lock (_calls) return [.. _calls]; }
    }

    public Task<SendResult> SendAsync(PageMessage message, CancellationToken cancellationToken)
    {
        lock (_calls)
        {
            _calls.Add(message);
            var next = _script.Count > 0 ? _script.Dequeue() : SendResult.Sent($"{channel}-{++_n}", "201");
            return Task.FromResult(next);
        }
    }
}
