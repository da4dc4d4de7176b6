using Larsbot.Irc;

namespace Larsbot.Tests.Support;

/// <summary>An IChannel that remembers what the bot said and the topic it asked for.</summary>
public sealed class RecordingChannel : IChannel
{
    private readonly List<string> _lines = [];

    public bool IsConnected { get; set; } = true;
    public string CurrentNick { get; set; } = "Lars_Botlesen";

    private string? _topic;

    public string? Topic
    {
        get
        {
            Pull();
            return _topic;
        }
        private set => _topic = value;
    }

    /// <summary>Where lines come from besides direct calls: the outbox (see <see cref="OutboxLines.Feed"/>).</summary>
    public Func<List<(string Stage, string Body)>>? Source { get; set; }

    /// <summary>Completes when the source may have something new (the outbox's wake).</summary>
    public Func<CancellationToken, Task>? SourceChanged { get; set; }

    private readonly Lock _pulling = new();

    /// <summary>Hears what the outbox has to say: lines in order, topic changes as SetTopic.</summary>
    private void Pull()
    {
        if (Source is null) return;
        lock (_pulling)
            foreach (var (stage, body) in Source())
                if (stage == "topic") SetTopic(body);
                else Say(body);
    }

    public IReadOnlyList<string> Lines
    {
        get
        {
            Pull();
            lock (_lines) return [.. _lines];
        }
    }

    /// <summary>Lines said since the last call: lets a test assert "this step said exactly these lines".</summary>
    public List<string> Take()
    {
        Pull();
        lock (_lines)
        {
            var copy = _lines.ToList();
            _lines.Clear();
            return copy;
        }
    }

    public void Say(string text)
    {
        TaskCompletionSource said;
        lock (_lines)
        {
            _lines.Add(text);
            said = _said;
            _said = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        said.TrySetResult();
    }

    private TaskCompletionSource _said = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Waits for a line said so far (and not yet taken) or later that matches; for work done off the caller's task.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task said;
            Pull();
            lock (_lines)
            {
                if (_lines.FirstOrDefault(match) is { } line) return line;
                said = _said.Task;
            }
            try
            {
                // With an outbox as the source, its wake says a row was written.
                if (SourceChanged is not null) await Task.WhenAny(said, SourceChanged(cts.Token));
                else await said.WaitAsync(cts.Token);
                cts.Token.ThrowIfCancellationRequested();
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("line never said; said:\n" + string.Join('\n', Lines));
            }
        }
    }

    public void SetTopic(string topic) => Topic = topic;

    public event Func<ChannelMessage, Task>? MessageReceived;
    public event Func<Task>? Joined;
    public event Func<Task>? Disconnected;

    public Task SimulateMessageAsync(ChannelMessage m) => MessageReceived?.Invoke(m) ?? Task.CompletedTask;
    public Task SimulateJoinAsync()
    {
        IsConnected = true;
        return Joined?.Invoke() ?? Task.CompletedTask;
    }

    public Task SimulateDisconnectAsync()
    {
        IsConnected = false;
        return Disconnected?.Invoke() ?? Task.CompletedTask;
    }
}
