using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Larsbot.Irc;

public static class IrcServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="IrcOptions"/> from the "Irc" section and runs one <see cref="IrcClient"/> for the app's
    /// lifetime, exposed as <see cref="IChannel"/>.
    /// </summary>
    public static IServiceCollection AddIrc(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IrcOptions>().Bind(configuration.GetSection("Irc"));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new IrcClient(
            sp.GetRequiredService<IOptions<IrcOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<IrcClient>>()));
        services.AddSingleton<IChannel>(sp => sp.GetRequiredService<IrcClient>());
        // The outbox says every channel line and topic change through this.
        services.AddSingleton<Notify.INotifier, IrcNotifier>();
        // Before the client's own service, so the first join is recorded.
        services.AddHostedService<IrcPresence>();
        services.AddHostedService<IrcHostedService>();
        return services;
    }
}

/// <summary>Runs the client's connect loop; on shutdown disposes it first so the server gets a QUIT.</summary>
internal sealed class IrcHostedService(IrcClient client) : BackgroundService, Setup.ILeaderOnly
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => client.RunAsync(stoppingToken);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await client.DisposeAsync();
        await base.StopAsync(cancellationToken);
    }
}
