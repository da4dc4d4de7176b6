namespace Larsbot.Irc;

/// <summary>
/// What the rest of the bot needs from IRC: say a line in the ops channel, keep its topic, and hear what people say.
/// The paging engine only ever talks to this, so it can be tested without a server.
/// </summary>
public interface IChannel
{
    /// <summary>True once registered with the server and joined to the channel.</summary>
    bool IsConnected { get; }

    /// <summary>The nick the bot has right now (may differ from the configured one after a 433).</summary>
    string CurrentNick { get; }

    /// <summary>
    /// Queue a line for the channel. The text is made safe (CR/LF/NUL shown as literal \r \n \0), split to fit the
    /// 512-byte limit on UTF-8 boundaries, and sent through the flood throttle. Never blocks; never throws.
    /// </summary>
    void Say(string text);

    /// <summary>
    /// Like <see cref="Say"/>, but never more than one line: what does not fit is cut and ends with "…". For alert
    /// announcements, so a 40 KB stack trace (stored whole) costs the channel one line.
    /// </summary>
    void SayOneLine(string text) => Say(text);

    /// <summary>
    /// Like <see cref="SayOneLine"/>, for the paging engine's lines (alerts, countdowns, pages): they go out ahead of
    /// lines queued for anything else, in their own order.
    /// </summary>
    void SayPaging(string text) => SayOneLine(text);

    /// <summary>
    /// Queues exactly one line, cut with "…" like <see cref="SayOneLine"/> (and ahead of chatter like
    /// <see cref="SayPaging"/> when <paramref name="paging"/>), and waits for it: true once it has been written to
    /// the server, false if it was dropped because the queue was full. Lines are written in the order they were
    /// queued; while disconnected they wait for the rejoin. Cancelling before the line is written withdraws it, so it
    /// is never said later, and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <remarks>The default suits channels that say at once (test fakes): it says the line and reports it said.</remarks>
    Task<bool> SayLineAsync(string text, bool paging, CancellationToken ct)
    {
        if (ct.IsCancellationRequested)
            return Task.FromCanceled<bool>(ct);
        if (paging)
            SayPaging(text);
        else
            SayOneLine(text);
        return Task.FromResult(true);
    }

    /// <summary>
    /// The topic the channel should carry. The client sets it now (if it differs), after every (re)join, and again
    /// whenever someone else changes it. If the server refuses (482, not an operator) it says so once and carries on.
    /// </summary>
    void SetTopic(string topic);

    /// <summary>Raised for every PRIVMSG to the channel (and private messages to the bot), from the reader loop.</summary>
    event Func<ChannelMessage, Task>? MessageReceived;

    /// <summary>Raised after each successful (re)join of the channel.</summary>
    event Func<Task>? Joined;

    /// <summary>Raised when a registered connection is lost.</summary>
    event Func<Task>? Disconnected;
}

/// <summary>
/// A message someone sent. <see cref="Target"/> is the channel, or the bot's nick for a private message.
/// <see cref="Account"/> is the services account the server vouches for on this connection (null: not logged in,
/// or not known).
/// </summary>
public sealed record ChannelMessage(string Nick, string User, string Host, string Target, string Text, string? Account)
{
    public bool IsPrivate => !Target.StartsWith('#') && !Target.StartsWith('&');

    /// <summary>
    /// Whether the sender is in the ops channel right now, as far as the IRC client has been told (NAMES, JOIN,
    /// PART, KICK, QUIT, NICK). Private messages come from anyone on the network, so a command from someone neither
    /// logged in nor present is refused. Messages not from IRC (tests, other front ends) count as present.
    /// </summary>
    public bool InChannel { get; init; } = true;
}
