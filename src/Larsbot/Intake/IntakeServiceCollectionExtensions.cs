using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Larsbot.Intake;

public static class IntakeServiceCollectionExtensions
{
    /// <summary>The doors' options and limits, the intake itself, and the TCP listener (HTTP doors are mapped by MapIntake and friends).</summary>
    public static IServiceCollection AddIntake(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<IntakeOptions>(config.GetSection("Intake"));
        services.Configure<AlertmanagerOptions>(config.GetSection("Alertmanager"));
        services.Configure<PagerDutyOptions>(config.GetSection("PagerDuty"));
        services.AddSingleton<IntakeGate>();
        services.AddSingleton<HostRateLimiter>();
        services.AddSingleton<AlertBatcher>();
        services.AddSingleton<AlertIntake>();
        services.AddSingleton<FloodReporter>();
        services.AddHostedService(sp => sp.GetRequiredService<FloodReporter>());
        services.AddSingleton<TcpIntakeServer>();
        services.AddHostedService(sp => sp.GetRequiredService<TcpIntakeServer>());
        return services;
    }
}
