using Larsbot.Setup;
using Larsbot.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Leadership;

public static class LeadershipServiceCollectionExtensions
{
    /// <summary>
    /// Who leads. With SQLite the one instance always does; with PostgreSQL a <see cref="LeaseKeeper"/> contends for
    /// the lease. Call <see cref="GateLeaderOnlyServices"/> once every hosted service is registered.
    /// </summary>
    public static IServiceCollection AddLeadership(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<LeadershipOptions>().Bind(config.GetSection("Leadership"));
        var provider = config["Database:Provider"]?.Trim().ToLowerInvariant();
        var shared = provider is "postgres" or "postgresql";
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<LeadershipOptions>>().Value;
            if (o.Validate().ToList() is { Count: > 0 } problems) throw new StartupException(string.Join("; ", problems));
            return shared ? Role.Contender(o.Name.Trim()) : Role.Sole(o.Name.Trim());
        });
        if (shared) services.AddHostedService<LeaseKeeper>();
        return services;
    }

    /// <summary>
    /// Puts every hosted service behind a <see cref="LeaderGate"/>: those marked <see cref="ILeaderOnly"/> start when
    /// this instance leads, the rest as before. Services registered by type keep their type; by factory or instance,
    /// they are resolved as before and gated by what they turn out to be.
    /// </summary>
    public static IServiceCollection GateLeaderOnlyServices(this IServiceCollection services)
    {
        for (var i = 0; i < services.Count; i++)
        {
            var d = services[i];
            if (d.ServiceType != typeof(IHostedService) || d.IsKeyedService) continue;
            var type = d.ImplementationType;
            if (type is not null && !typeof(ILeaderOnly).IsAssignableFrom(type)) continue;
            Func<IServiceProvider, IHostedService> make = d switch
            {
                { ImplementationInstance: IHostedService instance } => _ => instance,
                { ImplementationFactory: { } factory } => sp => (IHostedService)factory(sp),
                _ => sp => (IHostedService)ActivatorUtilities.CreateInstance(sp, type!),
            };
            services[i] = ServiceDescriptor.Singleton<IHostedService>(sp =>
                new LeaderGate(make(sp), sp.GetRequiredService<Role>(), sp.GetRequiredService<ILogger<LeaderGate>>()));
        }
        return services;
    }
}
