using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Larsbot.Irc;

/// <summary>One connection's life: connect, register, read until it ends, and a watchdog for a silent server.</summary>
internal sealed partial class IrcClient
{
    private async Task RunSessionAsync(CancellationToken ct)
    {
        _log.LogInformation("Connecting to IRC {Server}:{Port} (TLS: {Tls}) as {Nick}", _options.Server, _options.Port, _options.Tls, _options.Nick);
        using var tcp = new TcpClient();
        var stream = await ConnectAsync(tcp, ct).ConfigureAwait(false);

        using var session = new IrcSession(stream, CancellationTokenSource.CreateLinkedTokenSource(ct), _time);
        var wasRegistered = false;
        _session = session;
        _sender.ResetThrottle();
        _currentNick = _options.Nick;
        _members.Clear();
        var token = session.Token;
        var sender = Task.Run(() => _sender.RunAsync(session), CancellationToken.None);
        var watchdog = Task.Run(() => WatchdogLoopAsync(session), CancellationToken.None);
        try
        {
            // Registration bypasses the throttle: the server holds us unregistered until it has these.
            await _sender.WriteAsync(session, "CAP LS 302", token).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(_options.Password))
                await _sender.WriteAsync(session, $"PASS {_options.Password}", token).ConfigureAwait(false);
            await _sender.WriteAsync(session, $"NICK {_options.Nick}", token).ConfigureAwait(false);
            await _sender.WriteAsync(session, new IrcMessage("USER", _options.User, "0", "*", _options.RealName).ToString(), token).ConfigureAwait(false);

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
            _sender.SayOpen = false;
            session.Abort();
            await Task.WhenAll(sender, watchdog).ConfigureAwait(false);
            _session = null;
            if (wasRegistered)
                await RaiseAsync(Disconnected, nameof(Disconnected)).ConfigureAwait(false);
        }
    }

    /// <summary>TCP connect plus the TLS handshake, within <see cref="IrcOptions.ConnectTimeout"/>.</summary>
    private async Task<Stream> ConnectAsync(TcpClient tcp, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(_options.ConnectTimeout, _time);
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        await tcp.ConnectAsync(_options.Server, _options.Port, connectTimeout.Token).ConfigureAwait(false);
        tcp.NoDelay = true;
        Stream stream = tcp.GetStream();
        if (_options.Tls)
        {
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
            stream = ssl;
            var auth = new SslClientAuthenticationOptions { TargetHost = _options.Server };
            if (_options.TlsAcceptAnyCertificate)
                auth.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            await ssl.AuthenticateAsClientAsync(auth, connectTimeout.Token).ConfigureAwait(false);
        }
        return stream;
    }

    /// <summary>
    /// Pings a quiet server and drops a dead one: a half-open TCP connection can look alive for hours otherwise.
    /// Also retries the configured nick while we run under an alternate.
    /// </summary>
    private async Task WatchdogLoopAsync(IrcSession session)
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
                    await _sender.WriteAsync(session, "PING :larsbot", token).ConfigureAwait(false);
                }
                if (_registered && !IrcText.NameEquals(_currentNick, _options.Nick)
                    && _time.GetElapsedTime(session.LastNickRegain) >= _options.NickRegainInterval)
                {
                    session.LastNickRegain = _time.GetTimestamp();
                    _sender.Control(session, $"NICK {_options.Nick}");
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
}
