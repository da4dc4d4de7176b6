using Larsbot.Irc;
using Microsoft.Extensions.Hosting;

namespace Larsbot.Hosting;

/// <summary>Keeps the IRC connection going for the life of the process (the client reconnects by itself).</summary>
internal sealed class IrcHostedService(IrcClient client) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => client.RunAsync(stoppingToken);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await client.DisposeAsync();
    }
}
