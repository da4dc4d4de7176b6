using Larsbot.Paging;
using Microsoft.Extensions.Hosting;

namespace Larsbot.Irc;

/// <summary>
/// Tells the paging engine, as rows, whether people can ack in the channel: the process starts unjoined, a lost
/// connection and every (re)join are recorded in <see cref="ChatPresence"/>. Subscribed at construction, before the
/// IRC client's own hosted service starts, so no join is missed.
/// </summary>
internal sealed class IrcPresence : IHostedService, Setup.ILeaderOnly
{
    private readonly ChatPresence _presence;
    private readonly ILogger<IrcPresence> _log;

    public IrcPresence(IChannel channel, ChatPresence presence, ILogger<IrcPresence> log)
    {
        _presence = presence;
        _log = log;
        channel.Joined += () => Record(_presence.BackAsync, "back on IRC");
        channel.Disconnected += () => Record(_presence.LostAsync, "IRC lost");
    }

    public Task StartAsync(CancellationToken cancellationToken) => _presence.StartingAsync();

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task Record(Func<Task> write, string what)
    {
        try
        {
            await write();
        }
        catch (Exception e)
        {
            // The disk failing must not break the IRC reader: the engine treats the channel as it last knew it.
            _log.LogError(e, "Could not record '{What}'", what);
        }
    }
}
