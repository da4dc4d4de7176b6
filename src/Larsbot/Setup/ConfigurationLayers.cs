using Microsoft.Extensions.Configuration;

namespace Larsbot.Setup;

/// <summary>A configuration or roster problem found at start, worded for the operator (`larsbot: ...`, exit 2).</summary>
public sealed class StartupException(string message) : Exception(message);

/// <summary>Shared secrets (ack tokens, the Pushover callback secret) must be at least this long to be worth having.</summary>
public static class Secrets
{
    public const int MinLength = 16;
}

/// <summary>
/// Configuration, lowest to highest precedence: built-in defaults, the JSON file (--config, or larsbot.json if
/// present), LARSBOT_ environment variables (LARSBOT_Irc__Server), overrides (tests), command line.
/// </summary>
public static class ConfigurationLayers
{
    /// <summary>The configuration layers every verb shares (run, check, arbiter).</summary>
    public static IConfigurationBuilder Add(IConfigurationBuilder config, string[] args, string? configFile,
        IDictionary<string, string?>? overrides)
    {
        configFile ??= File.Exists("larsbot.json") ? "larsbot.json" : null;
        if (configFile is not null)
        {
            if (!File.Exists(configFile)) throw new StartupException($"config file {configFile} not found");
            config.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        }
        config.AddEnvironmentVariables("LARSBOT_");
        if (overrides is not null) config.AddInMemoryCollection(overrides);
        config.AddCommandLine(args);
        return config;
    }
}
