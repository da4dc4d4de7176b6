using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Larsbot.Outbox;

public static class OutboxServiceCollectionExtensions
{
    /// <summary>
    /// The one outbox and its sender. Notifiers (SMS, push, call, the IRC channel) are registered by their folders as
    /// <see cref="Notify.INotifier"/>; the retry settings stay in the Paging section, where they have always been.
    /// </summary>
    public static IServiceCollection AddOutbox(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<OutboxOptions>().Bind(config.GetSection("Paging"))
            .Validate(o => !o.Validate().Any(), "Paging retry options are invalid").ValidateOnStart();
        services.AddSingleton<OutboxStore>();
        services.AddSingleton<OutboxSender>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxSender>());
        return services;
    }
}
