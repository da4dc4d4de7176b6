using Larsbot.Irc;

namespace Larsbot.Tests.Support;

/// <summary>An IChannel that remembers what the bot said and the topic it asked for.</summary>
public sealed class RecordingChannel : IChannel
{
    private readonly List<string> _lines = [];

    public bool IsConnected { get; set; } = true;
    public string CurrentNick { get; set; } = "Lars_Botlesen";
    public string? Topic { get; private set; }

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return [.. _lines]; }
    }

    /// <summary>Lines said since the last call: lets a test assert "this step said exactly these lines".</summary>
    public List<string> Take()
    {
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
            lock (_lines)
            {
                if (_lines.FirstOrDefault(match) is { } line) return line;
                said = _said.Task;
            }
            try
            {
                await said.WaitAsync(cts.Token);
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
