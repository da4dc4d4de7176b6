using Larsbot.Irc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Larsbot.Tests.Irc;

public class AddIrcTests
{
    [Fact]
    public async Task Binds_options_and_exposes_one_client_as_IChannel()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Irc:Nick"] = "Pager",
                ["Irc:Channel"] = "#noc",
                ["Irc:FloodBurst"] = "2",
            })
            .Build();
        var services = new ServiceCollection().AddLogging().AddIrc(configuration);
        await using var provider = services.BuildServiceProvider();

        var channel = provider.GetRequiredService<IChannel>();
        Assert.Same(provider.GetRequiredService<IrcClient>(), channel);
        Assert.Equal("Pager", channel.CurrentNick);
        Assert.False(channel.IsConnected);
        // Registered, not resolved: IrcPresence, beside it, reports to Paging's ChatPresence, which this test does not build.
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(IrcHostedService));
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(IrcPresence));
        Assert.Single(services, d => d.ServiceType == typeof(Larsbot.Notify.INotifier) && d.ImplementationType == typeof(IrcNotifier));
    }
}
