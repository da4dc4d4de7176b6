using Larsbot.Setup;
using System.Globalization;
using Larsbot.Notify;
using Larsbot.Roster;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Larsbot.Watchdog;

/// <summary>
/// `larsbot arbiter --target URL [--every 1m]`: the watchdog, with its own roster and provider credentials (it runs
/// on other machines and must not depend on the bot it watches).
/// </summary>
public static class ArbiterHost
{
    public static Arbiter Build(string[] args, string? configFile, IDictionary<string, string?>? overrides, out ServiceProvider services)
    {
        var config = Setup.ConfigurationLayers.Add(new ConfigurationBuilder(), args, configFile, overrides).Build();
        var options = config.GetSection("Arbiter").Get<ArbiterOptions>() ?? new ArbiterOptions();
        if (config["target"] is { Length: > 0 } target) options.Target = target;
        if (config["every"] is { Length: > 0 } every) options.Every = ParseDuration(every, "--every");
        if (string.IsNullOrWhiteSpace(options.Target)) throw new StartupException("arbiter needs --target URL (the bot's health URL)");
        if (options.Every <= TimeSpan.Zero) throw new StartupException("--every must be more than zero");

        var sc = new ServiceCollection();
        sc.AddLogging(b => b.AddConfiguration(config.GetSection("Logging")).AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        }).AddFilter("System.Net.Http", LogLevel.Warning));
        sc.AddSingleton<IConfiguration>(config);
        sc.AddSingleton(TimeProvider.System);
        sc.AddRoster(config);
        sc.AddNotifiers(config);
        sc.AddHttpClient("arbiter");
        services = sc.BuildServiceProvider();
        return new Arbiter(options, services.GetRequiredService<TeamRoster>(), services.GetServices<INotifier>(),
            services.GetRequiredService<IHttpClientFactory>().CreateClient("arbiter"), services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<Arbiter>>());
    }

    /// <summary>"1m", "30s", "500ms", "2h", or a TimeSpan ("00:01:00").</summary>
    public static TimeSpan ParseDuration(string text, string what)
    {
        var t = text.Trim().ToLowerInvariant();
        (string Suffix, Func<double, TimeSpan> Make)[] units =
            [("ms", TimeSpan.FromMilliseconds), ("s", TimeSpan.FromSeconds), ("m", TimeSpan.FromMinutes), ("h", TimeSpan.FromHours)];
        foreach (var (suffix, make) in units)
            if (t.EndsWith(suffix) && double.TryParse(t[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
                return make(n);
        if (TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out var ts)) return ts;
        throw new StartupException($"{what}: '{text}' is not a duration (try 1m, 30s or 00:01:00)");
    }
}
