using Larsbot.Outbox;
using Larsbot.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Larsbot.Paging;

public static class PagingServiceCollectionExtensions
{
    /// <summary>The engine and its loop, and the stores commands write through: acks, silences, chat presence, status.</summary>
    public static IServiceCollection AddPaging(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<PagingOptions>().Bind(config.GetSection("Paging"))
            .Validate(o => !o.Validate().Any(), "Paging options are invalid").ValidateOnStart();
        services.TryAddSingleton<EngineWake>();
        services.TryAddSingleton<HandledMark>(); // the engine's, shared with intake and the e-mail digest
        services.TryAddSingleton<OpenKeys>(); // the engine's (SQLite), read by intake's key-scope check
        services.AddSingleton<ChatPresence>();
        services.AddSingleton<AckStore>();
        services.AddSingleton<SilenceStore>();
        services.AddSingleton<StatusReport>();
        services.AddSingleton<PagingEngine>();
        services.AddHostedService<PagingLoop>();
        services.AddSingleton<DeliveryReports>();
        services.AddSingleton<ISentObserver>(sp => sp.GetRequiredService<DeliveryReports>());
        return services;
    }
}
