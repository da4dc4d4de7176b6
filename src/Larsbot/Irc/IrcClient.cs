using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Larsbot.Irc;

/// <summary>
/// The bot's one IRC connection: registers, joins the ops channel, keeps its topic, says lines through a flood
/// throttle and reconnects forever. All protocol state is owned by the reader loop; other threads only enqueue.
/// </summary>
internal sealed class IrcClient : IChannel, IAsyncDisposable
{
    internal const string TopicRefusedText = "I can't set the topic here: I'm not a channel operator";

    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
    // Capabilities we use if offered. account-tag tells us who is logged in to services, which is what authorisation
    // should rest on; without it (ngircd) callers fall back to the hostmask.
    // extended-join, account-notify and WHOX keep a nick -> account map for lines that arrive without the tag.
    private static readonly string[] WantedCaps = ["account-tag", "extended-join", "account-notify"];

    // Who is in the channel and, for servers that do not tag lines, their accounts. Reader loop only.
    private readonly ChannelMembers _members;

    private readonly IrcOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<IrcClient> _log;
    private readonly OutgoingThrottle _throttle;
    private readonly ReconnectBackoff _backoff;
    private readonly SayQueue _says;
    private readonly AsyncSignal _wake = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _topicLock = new();

    private volatile Session? _session;
    private volatile string _currentNick;
    private volatile bool _registered;
    private volatile bool _joined;
    // Separate from _joined so Joined handlers run before the backlog is flushed after a rejoin.
    private volatile bool _sayOpen;
    private int _running;
    private int _disposed;

    private string? _desiredTopic;
    private string? _currentTopic;
    private bool _topicRefused;
    private bool _topicComplaintSaid;

    private int? _serverNickLength;
    private int? _serverTopicLength;
    private long _lastConnectedAtTicks; // 0 = never; a long so readers on other threads never see a torn value

    public IrcClient(IrcOptions options, TimeProvider time, ILogger<IrcClient> log)
    {
        Validate(options);
        _options = options;
        _time = time;
        _log = log;
        _currentNick = options.Nick;
        _throttle = new OutgoingThrottle(options.FloodBurst, options.FloodInterval, time);
        _backoff = new ReconnectBackoff(options.ReconnectMinDelay, options.ReconnectMaxDelay, Random.Shared);
        _says = new SayQueue(options.SayQueueLimit);
        _members = new ChannelMembers(options.Channel);
    }

    public bool IsConnected => _registered && _joined;

    public string CurrentNick => _currentNick;

    /// <summary>The channel topic as last seen from the server; null until joined.</summary>
    public string? CurrentTopic
    {
        get { lock (_topicLock) return _currentTopic; }
    }

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

    private void Say(string text, int maxLines, bool paging)
    {
        try
        {
            // Budget for the longest nick we may be relayed under: an alternate is a few characters longer.
            var nickLength = Math.Max(_currentNick.Length, _options.Nick.Length + 3);
            var budget = IrcText.PayloadBudget(nickLength, "PRIVMSG", _options.Channel);
            var pieces = IrcText.Split(text, budget, maxLines);
            foreach (var piece in pieces)
            {
                if (_says.Enqueue(piece, paging))
                    _log.LogWarning("IRC say queue full ({Limit} lines); dropping the oldest until we can deliver", _options.SayQueueLimit);
            }
            if (pieces.Count > 0)
                _wake.Set();
        }
        catch (Exception ex)
        {
            _log.LogError(ex, "Could not queue a line for IRC");
        }
    }

    public void SetTopic(string topic)
    {
        try
        {
            var clean = IrcText.Sanitize(topic);
            var budget = IrcText.PayloadBudget(Math.Max(_currentNick.Length, _options.Nick.Length + 3), "TOPIC", _options.Channel);
            clean = IrcText.Truncate(clean, Math.Min(budget, _serverTopicLength ?? int.MaxValue));
            lock (_topicLock)
            {
                if (clean == _desiredTopic)
                    return;
                _desiredTopic = clean;
            }
            EnsureTopic(_session);
        }
        catch (Exception ex)
        {
            _log.LogError(ex, "Could not set the IRC topic");
        }
    }

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
                await WriteAsync(session, "QUIT :Larsbot shutting down", quitTimeout.Token).ConfigureAwait(false);
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
        _disposing.Dispose();
    }

    private async Task RunSessionAsync(CancellationToken ct)
    {
        _log.LogInformation("Connecting to IRC {Server}:{Port} (TLS: {Tls}) as {Nick}", _options.Server, _options.Port, _options.Tls, _options.Nick);
        using var tcp = new TcpClient();
        Stream stream;
        using (var timeout = new CancellationTokenSource(_options.ConnectTimeout, _time))
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token))
        {
            await tcp.ConnectAsync(_options.Server, _options.Port, connectTimeout.Token).ConfigureAwait(false);
            tcp.NoDelay = true;
            stream = tcp.GetStream();
            if (_options.Tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                var auth = new SslClientAuthenticationOptions { TargetHost = _options.Server };
                if (_options.TlsAcceptAnyCertificate)
                    auth.RemoteCertificateValidationCallback = (_, _, _, _) => true;
                await ssl.AuthenticateAsClientAsync(auth, connectTimeout.Token).ConfigureAwait(false);
            }
        }

        using var session = new Session(stream, CancellationTokenSource.CreateLinkedTokenSource(ct), _time);
        var wasRegistered = false;
        _session = session;
        _throttle.Reset();
        _currentNick = _options.Nick;
        _members.Clear();
        var token = session.Token;
        var sender = Task.Run(() => SendLoopAsync(session), CancellationToken.None);
        var watchdog = Task.Run(() => WatchdogLoopAsync(session), CancellationToken.None);
        try
        {
            // Registration bypasses the throttle: the server holds us unregistered until it has these.
            await WriteAsync(session, "CAP LS 302", token).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(_options.Password))
                await WriteAsync(session, $"PASS {_options.Password}", token).ConfigureAwait(false);
            await WriteAsync(session, $"NICK {_options.Nick}", token).ConfigureAwait(false);
            await WriteAsync(session, new IrcMessage("USER", _options.User, "0", "*", _options.RealName).ToString(), token).ConfigureAwait(false);

            var reader = new IrcLineReader(stream);
            while (true)
            {
                var line = await reader.ReadLineAsync(token).ConfigureAwait(false);
                if (line is null)
                {
                    _log.Log(_disposed == 1 ? LogLevel.Information : LogLevel.Warning, "IRC server closed the connection");
                    break;
                }
                session.MarkReceived();
                var message = IrcMessage.Parse(line);
                if (message is null)
                    continue;
                await HandleAsync(session, message).ConfigureAwait(false);
                wasRegistered |= _registered;
            }
        }
        catch (OperationCanceledException) when (session.Token.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            // The watchdog gave up on a silent server; RunAsync reconnects.
        }
        finally
        {
            _registered = false;
            _joined = false;
            _sayOpen = false;
            session.Abort();
            await Task.WhenAll(sender, watchdog).ConfigureAwait(false);
            _session = null;
            if (wasRegistered)
                await RaiseAsync(Disconnected, nameof(Disconnected)).ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(Session session, IrcMessage m)
    {
        // Membership and accounts first, so a PRIVMSG is judged on what the server said before it.
        if (_members.Observe(m, _currentNick) is { } renamed && session.Whox && !session.AckedCaps.Contains("account-tag"))
            Enqueue(session, $"WHO {renamed} %tuhnar,7");
        switch (m.Command)
        {
            case "PING":
                await WriteAsync(session, new IrcMessage("PONG", m.Param(0) ?? "").ToString(), session.Token).ConfigureAwait(false);
                break;
            case "CAP":
                await HandleCapAsync(session, m).ConfigureAwait(false);
                break;
            case "AUTHENTICATE":
                await HandleAuthenticateAsync(session, m).ConfigureAwait(false);
                break;
            case "903" or "902" or "904" or "905" or "906" or "908":
                await HandleSaslResultAsync(session, m).ConfigureAwait(false);
                break;
            case "001":
                _registered = true;
                _currentNick = m.Param(0) ?? _currentNick;
                _backoff.Reset();
                _log.LogInformation("Registered with IRC as {Nick}", _currentNick);
                Enqueue(session, $"JOIN {_options.Channel}");
                break;
            case "005":
                ReadIsupport(m);
                break;
            case "432" or "433" or "436" or "437":
                await HandleNickRefusedAsync(session, m).ConfigureAwait(false);
                break;
            case "NICK":
                HandleNick(session, m);
                break;
            case "QUIT":
                // Whoever held our nick left: take it back now rather than at the next regain tick.
                if (_registered && IrcText.NameEquals(m.Nick, _options.Nick) && !IrcText.NameEquals(_currentNick, _options.Nick))
                    Enqueue(session, $"NICK {_options.Nick}");
                break;
            case "JOIN":
                if (IsMe(m.Nick) && IsOurChannel(m.Param(0)))
                {
                    lock (_topicLock)
                        _currentTopic = "";
                    session.JoinPending = true;
                    // Learn the accounts of people already in the channel (WHOX; servers without it ignore or refuse).
                    if (session.Whox)
                        Enqueue(session, $"WHO {_options.Channel} %tuhnar,7");
                }
                break;
            case "332":
                if (IsOurChannel(m.Param(1)))
                {
                    lock (_topicLock)
                        _currentTopic = m.Trailing ?? "";
                }
                break;
            case "366":
                if (IsOurChannel(m.Param(1)) && session.JoinPending)
                    await CompleteJoinAsync(session).ConfigureAwait(false);
                break;
            case "TOPIC":
                HandleTopic(session, m);
                break;
            case "482":
                if (IsOurChannel(m.Param(1)))
                    HandleTopicRefused();
                break;
            case "MODE":
                HandleMode(session, m);
                break;
            case "KICK":
                if (IsOurChannel(m.Param(0)) && IsMe(m.Param(1)))
                {
                    _log.LogWarning("Kicked from {Channel} by {Nick}: {Reason}; rejoining in {Delay}", _options.Channel, m.Nick, m.Param(2), _options.RejoinDelay);
                    LeftChannel(session);
                }
                break;
            case "PART":
                if (IsOurChannel(m.Param(0)) && IsMe(m.Nick))
                    LeftChannel(session);
                break;
            case "403" or "405" or "471" or "473" or "474" or "475" or "477":
                if (IsOurChannel(m.Param(1)))
                {
                    _log.LogWarning("Cannot join {Channel}: {Reason}; retrying in {Delay}", _options.Channel, m.Trailing, _options.RejoinDelay);
                    _ = RejoinLaterAsync(session);
                }
                break;
            case "PRIVMSG":
                await HandlePrivmsgAsync(session, m).ConfigureAwait(false);
                break;
            case "ERROR":
                // The server's goodbye after our own QUIT is expected, not a problem.
                _log.Log(_disposed == 1 ? LogLevel.Information : LogLevel.Warning, "IRC server closing the link: {Reason}", m.Trailing);
                break;
            // NOTICE is deliberately ignored: answering one automatically is how bots end up in loops.
        }
    }

    private async Task HandleCapAsync(Session session, IrcMessage m)
    {
        if (_registered)
            return;
        switch (m.Param(1)?.ToUpperInvariant())
        {
            case "LS":
                // CAP LS 302 may come in several lines; "*" before the list means more follow.
                var more = m.Params.Count >= 4 && m.Param(2) == "*";
                foreach (var cap in (m.Trailing ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    session.OfferedCaps.Add(cap.Split('=')[0]);
                if (more)
                    return;
                var wanted = WantedCaps.Where(session.OfferedCaps.Contains).ToList();
                if (!string.IsNullOrEmpty(_options.SaslAccount))
                {
                    if (session.OfferedCaps.Contains("sasl")) wanted.Add("sasl");
                    else _log.LogWarning("Irc:SaslAccount is set but the server offers no SASL; carrying on without logging in");
                }
                if (wanted.Count > 0)
                    await WriteAsync(session, $"CAP REQ :{string.Join(' ', wanted)}", session.Token).ConfigureAwait(false);
                else
                    await WriteAsync(session, "CAP END", session.Token).ConfigureAwait(false);
                break;
            case "ACK":
                var acked = (m.Trailing ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
                session.AckedCaps.UnionWith(acked);
                if (acked.Contains("sasl", StringComparer.OrdinalIgnoreCase) && !string.IsNullOrEmpty(_options.SaslAccount))
                    await WriteAsync(session, "AUTHENTICATE PLAIN", session.Token).ConfigureAwait(false);
                else
                    await WriteAsync(session, "CAP END", session.Token).ConfigureAwait(false);
                break;
            case "NAK":
                await WriteAsync(session, "CAP END", session.Token).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>The server's "AUTHENTICATE +" (it may come as a trailing ":+"): send account\0account\0password.</summary>
    private async Task HandleAuthenticateAsync(Session session, IrcMessage m)
    {
        if (m.Param(0) != "+" || string.IsNullOrEmpty(_options.SaslAccount))
            return;
        var payload = Convert.ToBase64String(Utf8.GetBytes($"{_options.SaslAccount}\0{_options.SaslAccount}\0{_options.SaslPassword}"));
        // Chunks of 400; a payload that is an exact multiple ends with "+" so the server knows it is complete.
        for (var i = 0; i < payload.Length; i += 400)
            await WriteAsync(session, "AUTHENTICATE " + payload.Substring(i, Math.Min(400, payload.Length - i)), session.Token).ConfigureAwait(false);
        if (payload.Length % 400 == 0)
            await WriteAsync(session, "AUTHENTICATE +", session.Token).ConfigureAwait(false);
    }

    private async Task HandleSaslResultAsync(Session session, IrcMessage m)
    {
        if (m.Command == "903")
            _log.LogInformation("Logged in to services as {Account} (SASL PLAIN)", _options.SaslAccount);
        else
            _log.LogWarning("SASL login as {Account} failed ({Numeric}: {Reason}); carrying on without an account", _options.SaslAccount, m.Command, m.Trailing);
        if (!_registered)
            await WriteAsync(session, "CAP END", session.Token).ConfigureAwait(false);
    }

    private async Task HandleNickRefusedAsync(Session session, IrcMessage m)
    {
        if (_registered)
        {
            _log.LogDebug("Nick {Nick} still unavailable: {Reason}", m.Param(1), m.Trailing);
            return;
        }
        var next = AlternateNick(session.NickAttempts++);
        _log.LogWarning("Nick {Nick} unavailable ({Reason}); trying {Alternate}", m.Param(1), m.Trailing, next);
        _currentNick = next;
        await WriteAsync(session, $"NICK {next}", session.Token).ConfigureAwait(false);
    }

    private string AlternateNick(int attempt)
    {
        var nick = _options.Nick;
        var suffix = attempt switch
        {
            0 => "_",
            1 => "__",
            _ => Random.Shared.Next(100, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (_serverNickLength is { } max && nick.Length + suffix.Length > max)
            nick = nick[..Math.Max(1, max - suffix.Length)];
        return nick + suffix;
    }

    private void HandleNick(Session session, IrcMessage m)
    {
        var newNick = m.Param(0);
        if (newNick is null)
            return;
        if (IsMe(m.Nick))
        {
            _log.LogInformation("Now known as {Nick}", newNick);
            _currentNick = newNick;
        }
        else if (_registered && IrcText.NameEquals(m.Nick, _options.Nick) && !IrcText.NameEquals(_currentNick, _options.Nick))
        {
            Enqueue(session, $"NICK {_options.Nick}");
        }
    }

    private async Task CompleteJoinAsync(Session session)
    {
        session.JoinPending = false;
        _joined = true;
        Interlocked.Exchange(ref _lastConnectedAtTicks, _time.GetUtcNow().UtcTicks);
        lock (_topicLock)
            _topicRefused = false;
        _log.LogInformation("Joined {Channel} as {Nick}", _options.Channel, _currentNick);
        EnsureTopic(session);
        await RaiseAsync(Joined, nameof(Joined)).ConfigureAwait(false);
        var dropped = _says.TakeDroppedCount();
        if (dropped > 0)
            _log.LogWarning("Dropped {Count} IRC lines (oldest first) while the say queue was full", dropped);
        _sayOpen = _joined;
        _wake.Set();
    }

    private void LeftChannel(Session session)
    {
        _joined = false;
        _sayOpen = false;
        session.JoinPending = false;
        _ = RejoinLaterAsync(session);
    }

    private async Task RejoinLaterAsync(Session session)
    {
        try
        {
            await Task.Delay(_options.RejoinDelay, _time, session.Token).ConfigureAwait(false);
            if (!_joined)
                Enqueue(session, $"JOIN {_options.Channel}");
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void HandleTopic(Session session, IrcMessage m)
    {
        if (!IsOurChannel(m.Param(0)))
            return;
        lock (_topicLock)
        {
            _currentTopic = m.Trailing ?? "";
            if (IsMe(m.Nick))
            {
                _topicComplaintSaid = false;
                return;
            }
        }
        _log.LogInformation("{Nick} changed the topic of {Channel}", m.Nick, _options.Channel);
        EnsureTopic(session);
    }

    private void HandleTopicRefused()
    {
        bool complain;
        lock (_topicLock)
        {
            _topicRefused = true;
            complain = !_topicComplaintSaid;
            _topicComplaintSaid = true;
        }
        _log.LogWarning("Not allowed to set the topic of {Channel}", _options.Channel);
        if (complain)
            Say(TopicRefusedText);
    }

    private void HandleMode(Session session, IrcMessage m)
    {
        if (!IsOurChannel(m.Param(0)) || m.Params.Count < 2)
            return;
        var modes = m.Params[1];
        var arg = 2;
        var adding = true;
        foreach (var c in modes)
        {
            switch (c)
            {
                case '+': adding = true; continue;
                case '-': adding = false; continue;
            }
            // Modes with an argument (rfc2812 plus the common prefix modes); 'l' only takes one when set.
            var takesArg = "ovhqabeIk".Contains(c) || (c == 'l' && adding);
            var target = takesArg ? m.Param(arg++) : null;
            if (c == 'o' && adding && IsMe(target))
            {
                lock (_topicLock)
                    _topicRefused = false;
                EnsureTopic(session);
            }
        }
    }

    private void EnsureTopic(Session? session)
    {
        if (session is null || !_joined)
            return;
        string desired;
        lock (_topicLock)
        {
            if (_desiredTopic is null || _topicRefused || _desiredTopic == _currentTopic)
                return;
            desired = _desiredTopic;
        }
        Enqueue(session, new IrcMessage("TOPIC", _options.Channel, desired).ToString());
    }

    private async Task HandlePrivmsgAsync(Session session, IrcMessage m)
    {
        var target = m.Param(0);
        var text = m.Param(1);
        if (target is null || text is null || m.Nick is null)
            return;
        if (!IsOurChannel(target) && !IsMe(target))
            return;
        // CTCP (VERSION, PING, ACTION...) is not for the pager; answering would spend throttle tokens on strangers.
        if (text.StartsWith('\u0001'))
            return;
        var account = _members.AccountFor(m, serverTagsAccounts: session.AckedCaps.Contains("account-tag"));
        var message = new ChannelMessage(m.Nick, m.User ?? "", m.Host ?? "", target, text, account) { InChannel = _members.IsMember(m.Nick) };
        var handlers = MessageReceived;
        if (handlers is null)
            return;
        foreach (var handler in handlers.GetInvocationList().Cast<Func<ChannelMessage, Task>>())
        {
            try
            {
                await handler(message).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _log.LogError(ex, "A MessageReceived handler failed");
            }
        }
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

    private void ReadIsupport(IrcMessage m)
    {
        if (m.Params.Skip(1).Any(p => p.Equals("WHOX", StringComparison.OrdinalIgnoreCase)) && _session is { } s)
            s.Whox = true;
        // 005 <me> TOKEN=value ... :are supported by this server
        for (var i = 1; i < m.Params.Count - 1; i++)
        {
            var token = m.Params[i];
            var eq = token.IndexOf('=');
            if (eq < 0 || !int.TryParse(token.AsSpan(eq + 1), out var value) || value <= 0)
                continue;
            switch (token[..eq].ToUpperInvariant())
            {
                case "NICKLEN": _serverNickLength = value; break;
                case "TOPICLEN": _serverTopicLength = value; break;
            }
        }
    }

    private void Enqueue(Session session, string line)
    {
        session.Control.Enqueue(line);
        _wake.Set();
    }

    /// <summary>
    /// Everything but PONG and registration goes out here, one line per throttle token: control lines (JOIN, TOPIC,
    /// NICK) first, then what the bot was asked to say, and the latter only while we are in the channel.
    /// </summary>
    private async Task SendLoopAsync(Session session)
    {
        var token = session.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var wake = _wake.WaitTask;
                if (session.Control.IsEmpty && !(_sayOpen && _says.Count > 0))
                {
                    await wake.WaitAsync(token).ConfigureAwait(false);
                    continue;
                }
                await _throttle.WaitAsync(token).ConfigureAwait(false);
                if (session.Control.TryDequeue(out var control))
                {
                    await WriteAsync(session, control, token).ConfigureAwait(false);
                }
                else if (_sayOpen && _says.TryPeek(out var say))
                {
                    await WriteAsync(session, new IrcMessage("PRIVMSG", _options.Channel, say.Text).ToString(), token).ConfigureAwait(false);
                    _says.Remove(say);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            _log.LogWarning("IRC send failed: {Error}", ex.Message);
            session.Abort();
        }
    }

    /// <summary>
    /// Pings a quiet server and drops a dead one: a half-open TCP connection can look alive for hours otherwise.
    /// Also retries the configured nick while we run under an alternate.
    /// </summary>
    private async Task WatchdogLoopAsync(Session session)
    {
        var token = session.Token;
        var tick = TimeSpan.FromTicks(Math.Clamp(_options.PingIdle.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromSeconds(1).Ticks));
        try
        {
            while (!token.IsCancellationRequested)
            {
                await Task.Delay(tick, _time, token).ConfigureAwait(false);
                var silence = session.Silence;
                if (silence >= _options.PingIdle * 2)
                {
                    _log.LogWarning("No data from IRC server for {Silence}; reconnecting", silence);
                    session.Abort();
                    return;
                }
                if (!_registered && _time.GetElapsedTime(session.ConnectedAt) >= _options.PingIdle * 2)
                {
                    _log.LogWarning("IRC registration did not complete; reconnecting");
                    session.Abort();
                    return;
                }
                if (silence >= _options.PingIdle && !session.PingSent)
                {
                    session.PingSent = true;
                    await WriteAsync(session, "PING :larsbot", token).ConfigureAwait(false);
                }
                if (_registered && !IrcText.NameEquals(_currentNick, _options.Nick)
                    && _time.GetElapsedTime(session.LastNickRegain) >= _options.NickRegainInterval)
                {
                    session.LastNickRegain = _time.GetTimestamp();
                    Enqueue(session, $"NICK {_options.Nick}");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            _log.LogWarning("IRC watchdog stopped: {Error}", ex.Message);
            session.Abort();
        }
    }

    private async Task WriteAsync(Session session, string line, CancellationToken ct)
    {
        // Last line of defence: everything reaching here is built from sanitized parts, but a raw CR/LF/NUL or an
        // over-long line would inject a command or get us disconnected, so refuse rather than send.
        if (line.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            _log.LogError("Refusing to send an IRC line containing CR, LF or NUL");
            return;
        }
        var bytes = Utf8.GetBytes(line + "\r\n");
        if (bytes.Length > IrcText.MaxLineBytes)
        {
            _log.LogError("Refusing to send an IRC line of {Bytes} bytes", bytes.Length);
            return;
        }
        await session.WriteLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await session.Stream.WriteAsync(bytes, ct).ConfigureAwait(false);
            await session.Stream.FlushAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            session.WriteLock.Release();
        }
        if (_log.IsEnabled(LogLevel.Trace))
            _log.LogTrace("IRC >> {Line}", line.StartsWith("PASS ", StringComparison.Ordinal) ? "PASS ****"
                : line.StartsWith("AUTHENTICATE ", StringComparison.Ordinal) && line != "AUTHENTICATE PLAIN" ? "AUTHENTICATE ****" : line);
    }

    private bool IsMe(string? nick) => IrcText.NameEquals(nick, _currentNick);

    private bool IsOurChannel(string? channel) => IrcText.NameEquals(channel, _options.Channel);

    private static void Validate(IrcOptions options)
    {
        static bool Unsafe(string? s) => string.IsNullOrEmpty(s) || s.AsSpan().IndexOfAny(" \r\n\0,") >= 0;
        if (Unsafe(options.Nick))
            throw new ArgumentException("Irc:Nick must be non-empty without spaces, commas or line breaks.", nameof(options));
        if (Unsafe(options.User))
            throw new ArgumentException("Irc:User must be non-empty without spaces, commas or line breaks.", nameof(options));
        if (Unsafe(options.Channel) || "#&+!".IndexOf(options.Channel[0]) < 0)
            throw new ArgumentException("Irc:Channel must be a channel name such as #ops.", nameof(options));
        if (options.RealName.AsSpan().IndexOfAny("\r\n\0") >= 0)
            throw new ArgumentException("Irc:RealName must not contain line breaks.", nameof(options));
        if (!string.IsNullOrEmpty(options.SaslAccount) && !options.Tls)
            throw new ArgumentException("Irc:SaslAccount needs Irc:Tls=true: SASL PLAIN would send the password in clear.", nameof(options));
        if (!string.IsNullOrEmpty(options.SaslAccount) && (Unsafe(options.SaslAccount) || string.IsNullOrEmpty(options.SaslPassword)
                || options.SaslPassword.AsSpan().IndexOfAny("\0\r\n") >= 0))
            throw new ArgumentException("Irc:SaslAccount must be one word and Irc:SaslPassword set, without NUL or line breaks.", nameof(options)); // value never echoed
        if (options.Password is { } pw && (pw.Contains(' ') || pw.AsSpan().IndexOfAny("\r\n\0") >= 0))
            throw new ArgumentException("Irc:Password must not contain spaces or line breaks.", nameof(options)); // value never echoed
        if (string.IsNullOrWhiteSpace(options.Server) || options.Port is < 1 or > 65535)
            throw new ArgumentException("Irc:Server and Irc:Port must name a reachable server.", nameof(options));
        if (options.PingIdle <= TimeSpan.Zero || options.FloodInterval < TimeSpan.Zero)
            throw new ArgumentException("Irc:PingIdle must be positive and Irc:FloodInterval not negative.", nameof(options));
    }

    /// <summary>One TCP connection's worth of state; a reconnect starts from a fresh one.</summary>
    private sealed class Session : IDisposable
    {
        private readonly CancellationTokenSource _cts;
        private readonly TimeProvider _time;
        private long _lastReceived;

        public Session(Stream stream, CancellationTokenSource cts, TimeProvider time)
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
}
