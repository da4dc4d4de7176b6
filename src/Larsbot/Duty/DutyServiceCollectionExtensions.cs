using Larsbot.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Larsbot.Duty;

public static class DutyServiceCollectionExtensions
{
    /// <summary>Taking, giving and reporting duty (duty_changes, duty_offers).</summary>
    public static IServiceCollection AddDuty(this IServiceCollection services)
    {
        services.TryAddSingleton<EngineWake>();
        services.AddSingleton<DutyHandover>();
        return services;
    }
}
