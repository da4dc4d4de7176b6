using System.Text;
using Microsoft.Extensions.Logging;

namespace Larsbot.Irc;

/// <summary>
/// Everything the bot writes to the socket. Control lines (JOIN, TOPIC, NICK, WHO) and said lines share one flood
/// throttle; PONG and registration go straight through <see cref="WriteAsync"/>, because holding them back could cost
/// us the connection.
/// </summary>
internal sealed class IrcSender
{
    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    private readonly string _channel;
    private readonly ILogger _log;
    private readonly OutgoingThrottle _throttle;
    private readonly AsyncSignal _wake = new();
    private volatile bool _sayOpen;

    public IrcSender(IrcOptions options, TimeProvider time, ILogger log)
    {
        _channel = options.Channel;
        _log = log;
        _throttle = new OutgoingThrottle(options.FloodBurst, options.FloodInterval, time);
        Says = new SayQueue(options.SayQueueLimit);
    }

    /// <summary>Lines the bot was asked to say; they survive reconnects.</summary>
    public SayQueue Says { get; }

    /// <summary>
    /// Whether said lines may go out: only while we are in the channel, and only after the Joined handlers ran, so
    /// they see the channel before the backlog is flushed.
    /// </summary>
    public bool SayOpen
    {
        get => _sayOpen;
        set => _sayOpen = value;
    }

    /// <summary>Tells the send loop there may be work: after queuing a line, or opening <see cref="SayOpen"/>.</summary>
    public void Wake() => _wake.Set();

    /// <summary>Queues a control line for this connection only; it goes out ahead of said lines.</summary>
    public void Control(IrcSession session, string line)
    {
        session.Control.Enqueue(line);
        _wake.Set();
    }

    /// <summary>
    /// Everything but PONG and registration goes out here, one line per throttle token: control lines (JOIN, TOPIC,
    /// NICK) first, then what the bot was asked to say, and the latter only while we are in the channel.
    /// </summary>
    public async Task RunAsync(IrcSession session)
    {
        var token = session.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var wake = _wake.WaitTask;
                if (session.Control.IsEmpty && !(_sayOpen && Says.Count > 0))
                {
                    await wake.WaitAsync(token).ConfigureAwait(false);
                    continue;
                }
                await _throttle.WaitAsync(token).ConfigureAwait(false);
                if (session.Control.TryDequeue(out var control))
                {
                    await WriteAsync(session, control, token).ConfigureAwait(false);
                }
                else if (_sayOpen && Says.TryBeginSend(out var say))
                {
                    var written = false;
                    try
                    {
                        await WriteAsync(session, new IrcMessage("PRIVMSG", _channel, say.Text).ToString(), token).ConfigureAwait(false);
                        written = true;
                    }
                    finally
                    {
                        if (written) Says.Remove(say);
                        else Says.NotWritten(say);
                    }
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

    /// <summary>A fresh connection starts with a fresh allowance on the server side, so ours is full again too.</summary>
    public void ResetThrottle() => _throttle.Reset();

    /// <summary>Writes one line now, bypassing the throttle.</summary>
    public async Task WriteAsync(IrcSession session, string line, CancellationToken ct)
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
}
