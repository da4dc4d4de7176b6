using Larsbot.Notify;

namespace Larsbot.Irc;

/// <summary>
/// The outbox's way into the ops channel: every channel line is a durable row, and this says it. A row titled
/// <see cref="TopicTitle"/> sets the channel topic; any other row is one line, ahead of chatter when urgent.
/// Sent means the line was written to the server; a line the full say queue dropped is a Retry, never delivered.
/// </summary>
internal sealed class IrcNotifier(IChannel channel) : INotifier
{
    public const string TopicTitle = "topic";
    private const string ProviderId = "irc";

    public string Channel => "irc";

    public async Task<SendResult> SendAsync(PageMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        cancellationToken.ThrowIfCancellationRequested();
        if (message.Title == TopicTitle)
        {
            // The client keeps the topic from here on: after every rejoin and whenever someone changes it.
            channel.SetTopic(message.Body);
            return SendResult.Sent(ProviderId, "topic set");
        }
        return await channel.SayLineAsync(message.Body, paging: message.Urgent, cancellationToken).ConfigureAwait(false)
            ? SendResult.Sent(ProviderId, "said in the channel")
            : SendResult.Retry("line dropped from the IRC queue", mayHaveBeenDelivered: false);
    }
}
