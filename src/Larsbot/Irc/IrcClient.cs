using Microsoft.Extensions.Logging;

namespace Larsbot.Irc;

/// <summary>
/// The bot's one IRC connection: registers, joins the ops channel, keeps its topic, says lines through a flood
/// throttle and reconnects forever. All protocol state is owned by the reader loop; other threads only enqueue.
/// </summary>
/// <remarks>
/// Split by concern: this file is the public surface; IrcClient.Connection.cs connects, reads and watches the
/// connection; IrcClient.Dispatch.cs acts on what the server says; IrcClient.Identity.cs is who we are and who
/// others are (CAP, SASL, nicks, accounts); IrcClient.Topic.cs keeps the topic. Writing is <see cref="IrcSender"/>'s.
/// </remarks>
internal sealed partial class IrcClient : IChannel, IAsyncDisposable
{
    internal const string TopicRefusedText = "I can't set the topic here: I'm not a channel operator";

    // Who is in the channel and, for servers that do not tag lines, their accounts. Reader loop only.
    private readonly ChannelMembers _members;

    private readonly IrcOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<IrcClient> _log;
    private readonly ReconnectBackoff _backoff;
    private readonly IrcSender _sender;
    private readonly ChannelTopic _topic = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private volatile IrcSession? _session;
    private volatile string _currentNick;
    private volatile bool _registered;
    private volatile bool _joined;
    private int _running;
    private int _disposed;

    private int? _serverNickLength;
    private int? _serverTopicLength;
    private long _lastConnectedAtTicks; // 0 = never; a long so readers on other threads never see a torn value

    public IrcClient(IrcOptions options, TimeProvider time, ILogger<IrcClient> log)
    {
        IrcOptions.Validate(options);
        _options = options;
        _time = time;
        _log = log;
        _currentNick = options.Nick;
        _sender = new IrcSender(options, time, log);
        _backoff = new ReconnectBackoff(options.ReconnectMinDelay, options.ReconnectMaxDelay, Random.Shared);
        _members = new ChannelMembers(options.Channel);
    }

    public bool IsConnected => _registered && _joined;

    public string CurrentNick => _currentNick;

    /// <summary>The channel topic as last seen from the server; null until joined.</summary>
    public string? CurrentTopic => _topic.Current;

    /// <summary>When the bot last completed a (re)join.</summary>
    public DateTimeOffset? LastConnectedAt =>
        Interlocked.Read(ref _lastConnectedAtTicks) is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public event Func<ChannelMessage, Task>? MessageReceived;
    public event Func<Task>? Joined;
    /// <summary>Raised when a registered connection is lost (not for failed connection attempts).</summary>
    public event Func<Task>? Disconnected;

    public void Say(string text) => Say(text, _options.MaxLinesPerMessage, paging: false);

    public void SayOneLine(string text) => Say(text, 1, paging: false);

    public void SayPaging(string text) => Say(text, 1, paging: true);

    /// <summary>
    /// A paging line is one line (cut with "…"); chatter (a command's answer) may take up to Irc:MaxLinesPerMessage
    /// lines, as <see cref="Say"/>. True once every piece is written; false if any was dropped.
    /// </summary>
    public async Task<bool> SayLineAsync(string text, bool paging, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        List<SayLine> lines;
        try
        {
            var pieces = IrcText.Split(text, PayloadBudget("PRIVMSG"), maxLines: paging ? 1 : _options.MaxLinesPerMessage);
            if (pieces.Count == 0)
                return true; // nothing to say (empty once made safe), so nothing to lose
            lines = pieces.Select(p => new SayLine(p)).ToList();
            foreach (var line in lines) Queue(line, paging);
            _sender.Wake();
        }
        catch (Exception ex)
        {
            _log.LogError(ex, "Could not queue a line for IRC");
            return false;
        }
        using var withdraw = ct.Register(() =>
        {
            foreach (var line in lines) _sender.Says.Cancel(line, ct);
        });
        var said = true;
        foreach (var line in lines) said &= await line.Said.ConfigureAwait(false);
        return said;
    }

    private void Say(string text, int maxLines, bool paging)
    {
        try
        {
            var pieces = IrcText.Split(text, PayloadBudget("PRIVMSG"), maxLines);
            foreach (var piece in pieces)
                Queue(new SayLine(piece), paging);
            if (pieces.Count > 0)
                _sender.Wake();
        }
        catch (Exception ex)
        {
            _log.LogError(ex, "Could not queue a line for IRC");
        }
    }

    private void Queue(SayLine line, bool paging)
    {
        if (_sender.Says.Enqueue(line, paging))
            _log.LogWarning("IRC say queue full ({Limit} lines); dropping the oldest until we can deliver", _options.SayQueueLimit);
    }

    // Budget for the longest nick we may be relayed under: an alternate is a few characters longer.
    private int PayloadBudget(string command) =>
        IrcText.PayloadBudget(Math.Max(_currentNick.Length, _options.Nick.Length + 3), command, _options.Channel);

    /// <summary>
    /// Connects and stays connected until <paramref name="ct"/> is cancelled or the client is disposed. Completes
    /// normally on cancellation. Only one run at a time.
    /// </summary>
    public async Task RunAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
            throw new InvalidOperationException("IrcClient is already running.");
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _disposing.Token);
        var token = linked.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                try
                {
                    await RunSessionAsync(token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    _log.LogWarning("IRC connection to {Server}:{Port} failed: {Error}", _options.Server, _options.Port, ex.Message);
                }
                if (token.IsCancellationRequested)
                    break;

                var delay = _backoff.Next();
                _log.LogInformation("Reconnecting to IRC in {Delay}", delay);
                try
                {
                    await Task.Delay(delay, _time, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        var session = _session;
        if (session is not null && _registered)
        {
            try
            {
                using var quitTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
                await _sender.WriteAsync(session, "QUIT :Larsbot shutting down", quitTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _log.LogDebug("QUIT not sent: {Error}", ex.Message);
            }
        }
        await _disposing.CancelAsync().ConfigureAwait(false);
        session?.Abort();
        if (Volatile.Read(ref _running) == 1)
        {
            try
            {
                await _stopped.Task.WaitAsync(TimeSpan.FromSeconds(10), _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _log.LogWarning("IRC loop did not stop within 10 s of dispose");
            }
        }
        // Nothing will be said any more: whoever waits for a line hears now that it was not, rather than never.
        _sender.Says.Close();
        _disposing.Dispose();
    }

    private async Task RaiseAsync(Func<Task>? handlers, string name)
    {
        if (handlers is null)
            return;
        foreach (var handler in handlers.GetInvocationList().Cast<Func<Task>>())
        {
            try
            {
                await handler().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _log.LogError(ex, "A {Event} handler failed", name);
            }
        }
    }

    private bool IsMe(string? nick) => IrcText.NameEquals(nick, _currentNick);

    private bool IsOurChannel(string? channel) => IrcText.NameEquals(channel, _options.Channel);
}
