using Larsbot.Setup;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Larsbot.Roster;

public static class RosterServiceCollectionExtensions
{
    /// <summary>The team (Roster:Path), loaded once; a missing or broken file stops the start with a clear message.</summary>
    public static IServiceCollection AddRoster(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(_ =>
        {
            var path = config["Roster:Path"] ?? "roster.json";
            if (!File.Exists(path))
                throw new StartupException($"Roster:Path {Path.GetFullPath(path)} not found. Copy roster.sample.json to roster.json and edit it, or set LARSBOT_Roster__Path.");
            try
            {
                return RosterLoader.LoadFile(path, showContacts: config.GetValue("Irc:ShowContacts", true));
            }
            catch (RosterException e)
            {
                throw new StartupException(e.Message);
            }
        });
        return services;
    }
}
