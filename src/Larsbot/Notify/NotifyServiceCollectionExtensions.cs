using Microsoft.Extensions.Options;

namespace Larsbot.Notify;

internal static class NotifyServiceCollectionExtensions
{
    public const string TwilioSection = "Twilio";
    public const string PushoverSection = "Pushover";
    public const string TwilioHttpClient = "larsbot.notify.twilio";
    public const string PushoverHttpClient = "larsbot.notify.pushover";

    /// <summary>
    /// Binds "Twilio" and "Pushover" options and registers one <see cref="INotifier"/> per channel ("sms", "call", "push"):
    /// the real provider when its credentials are configured, otherwise a <see cref="ConsoleNotifier"/>.
    /// </summary>
    public static IServiceCollection AddNotifiers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TwilioOptions>().Bind(configuration.GetSection(TwilioSection));
        services.AddOptions<PushoverOptions>().Bind(configuration.GetSection(PushoverSection));

        // The notifiers are singletons holding their HttpClient, so the handler is never recycled by the factory;
        // PooledConnectionLifetime keeps DNS changes visible instead. Timeouts are the notifiers' own (per attempt).
        services.AddHttpClient(TwilioHttpClient, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        services.AddHttpClient(PushoverHttpClient, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                // Pushover allows at most 2 concurrent connections per application.
                MaxConnectionsPerServer = 2,
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);

        services.AddSingleton<INotifier>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TwilioOptions>>().Value;
            return options.IsConfigured
                ? new TwilioSmsNotifier(Client(sp, TwilioHttpClient), options, sp.GetService<TimeProvider>())
                : new ConsoleNotifier("sms");
        });
        services.AddSingleton<INotifier>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TwilioOptions>>().Value;
            return options.IsConfigured
                ? new TwilioCallNotifier(Client(sp, TwilioHttpClient), options, sp.GetService<TimeProvider>())
                : new ConsoleNotifier("call");
        });
        services.AddSingleton<INotifier>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<PushoverOptions>>().Value;
            return options.IsConfigured
                ? new PushoverNotifier(Client(sp, PushoverHttpClient), options, sp.GetService<TimeProvider>())
                : new ConsoleNotifier("push");
        });
        return services;
    }

    /// <summary>Delivery status by polling, for when Twilio cannot call back (no public URL); null without Twilio.</summary>
    public static TwilioStatusReader? StatusReader(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<TwilioOptions>>().Value;
        return options.IsConfigured ? new TwilioStatusReader(Client(sp, TwilioHttpClient), options) : null;
    }

    private static HttpClient Client(IServiceProvider sp, string name) =>
        sp.GetRequiredService<IHttpClientFactory>().CreateClient(name);
}
