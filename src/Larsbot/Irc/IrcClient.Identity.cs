using System.Text;
using Microsoft.Extensions.Logging;

namespace Larsbot.Irc;

/// <summary>Who we are (capabilities, SASL login, our nick) and who is talking to us (accounts, membership).</summary>
internal sealed partial class IrcClient
{
    // Capabilities we use if offered. account-tag tells us who is logged in to services, which is what authorisation
    // should rest on; without it (ngircd) callers fall back to the hostmask.
    // extended-join, account-notify and WHOX keep a nick -> account map for lines that arrive without the tag.
    private static readonly string[] WantedCaps = ["account-tag", "extended-join", "account-notify"];

    private async Task HandleCapAsync(IrcSession session, IrcMessage m)
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
                    await _sender.WriteAsync(session, $"CAP REQ :{string.Join(' ', wanted)}", session.Token).ConfigureAwait(false);
                else
                    await _sender.WriteAsync(session, "CAP END", session.Token).ConfigureAwait(false);
                break;
            case "ACK":
                var acked = (m.Trailing ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
                session.AckedCaps.UnionWith(acked);
                if (acked.Contains("sasl", StringComparer.OrdinalIgnoreCase) && !string.IsNullOrEmpty(_options.SaslAccount))
                    await _sender.WriteAsync(session, "AUTHENTICATE PLAIN", session.Token).ConfigureAwait(false);
                else
                    await _sender.WriteAsync(session, "CAP END", session.Token).ConfigureAwait(false);
                break;
            case "NAK":
                await _sender.WriteAsync(session, "CAP END", session.Token).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>The server's "AUTHENTICATE +" (it may come as a trailing ":+"): send account\0account\0password.</summary>
    private async Task HandleAuthenticateAsync(IrcSession session, IrcMessage m)
    {
        if (m.Param(0) != "+" || string.IsNullOrEmpty(_options.SaslAccount))
            return;
        var payload = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_options.SaslAccount}\0{_options.SaslAccount}\0{_options.SaslPassword}"));
        // Chunks of 400; a payload that is an exact multiple ends with "+" so the server knows it is complete.
        for (var i = 0; i < payload.Length; i += 400)
            await _sender.WriteAsync(session, "AUTHENTICATE " + payload.Substring(i, Math.Min(400, payload.Length - i)), session.Token).ConfigureAwait(false);
        if (payload.Length % 400 == 0)
            await _sender.WriteAsync(session, "AUTHENTICATE +", session.Token).ConfigureAwait(false);
    }

    private async Task HandleSaslResultAsync(IrcSession session, IrcMessage m)
    {
        if (m.Command == "903")
            _log.LogInformation("Logged in to services as {Account} (SASL PLAIN)", _options.SaslAccount);
        else
            _log.LogWarning("SASL login as {Account} failed ({Numeric}: {Reason}); carrying on without an account", _options.SaslAccount, m.Command, m.Trailing);
        if (!_registered)
            await _sender.WriteAsync(session, "CAP END", session.Token).ConfigureAwait(false);
    }

    private async Task HandleNickRefusedAsync(IrcSession session, IrcMessage m)
    {
        if (_registered)
        {
            _log.LogDebug("Nick {Nick} still unavailable: {Reason}", m.Param(1), m.Trailing);
            return;
        }
        var next = AlternateNick(session.NickAttempts++);
        _log.LogWarning("Nick {Nick} unavailable ({Reason}); trying {Alternate}", m.Param(1), m.Trailing, next);
        _currentNick = next;
        await _sender.WriteAsync(session, $"NICK {next}", session.Token).ConfigureAwait(false);
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

    private void HandleNick(IrcSession session, IrcMessage m)
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
            _sender.Control(session, $"NICK {_options.Nick}");
        }
    }

    private async Task HandlePrivmsgAsync(IrcSession session, IrcMessage m)
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
}
