using Microsoft.Extensions.Logging;

namespace Larsbot.Irc;

/// <summary>What the client does with each line from the server, and joining the channel (again).</summary>
internal sealed partial class IrcClient
{
    private async Task HandleAsync(IrcSession session, IrcMessage m)
    {
        // Membership and accounts first, so a PRIVMSG is judged on what the server said before it.
        if (_members.Observe(m, _currentNick) is { } renamed && session.Whox && !session.AckedCaps.Contains("account-tag"))
            _sender.Control(session, $"WHO {renamed} %tuhnar,7");
        switch (m.Command)
        {
            case "PING":
                await _sender.WriteAsync(session, new IrcMessage("PONG", m.Param(0) ?? "").ToString(), session.Token).ConfigureAwait(false);
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
                _sender.Control(session, $"JOIN {_options.Channel}");
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
                    _sender.Control(session, $"NICK {_options.Nick}");
                break;
            case "JOIN":
                if (IsMe(m.Nick) && IsOurChannel(m.Param(0)))
                {
                    _topic.Joining();
                    session.JoinPending = true;
                    // Learn the accounts of people already in the channel (WHOX; servers without it ignore or refuse).
                    if (session.Whox)
                        _sender.Control(session, $"WHO {_options.Channel} %tuhnar,7");
                }
                break;
            case "332":
                if (IsOurChannel(m.Param(1)))
                    _topic.Seen(m.Trailing ?? "");
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

    private async Task CompleteJoinAsync(IrcSession session)
    {
        session.JoinPending = false;
        _joined = true;
        Interlocked.Exchange(ref _lastConnectedAtTicks, _time.GetUtcNow().UtcTicks);
        _topic.Allowed();
        _log.LogInformation("Joined {Channel} as {Nick}", _options.Channel, _currentNick);
        EnsureTopic(session);
        await RaiseAsync(Joined, nameof(Joined)).ConfigureAwait(false);
        var dropped = _sender.Says.TakeDroppedCount();
        if (dropped > 0)
            _log.LogWarning("Dropped {Count} IRC lines (oldest first) while the say queue was full", dropped);
        _sender.SayOpen = _joined;
        _sender.Wake();
    }

    private void LeftChannel(IrcSession session)
    {
        _joined = false;
        _sender.SayOpen = false;
        session.JoinPending = false;
        _ = RejoinLaterAsync(session);
    }

    private async Task RejoinLaterAsync(IrcSession session)
    {
        try
        {
            await Task.Delay(_options.RejoinDelay, _time, session.Token).ConfigureAwait(false);
            if (!_joined)
                _sender.Control(session, $"JOIN {_options.Channel}");
        }
        catch (OperationCanceledException)
        {
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
}
