using Microsoft.Extensions.DependencyInjection;

namespace Larsbot.Commands;

public static class CommandsServiceCollectionExtensions
{
    /// <summary>What people type in the channel: the dispatcher and its handlers.</summary>
    public static IServiceCollection AddCommands(this IServiceCollection services)
    {
        services.AddSingleton<ChatCommands>();
        services.AddSingleton<IChatCommandHandler, SilenceCommands>();
        services.AddSingleton<IChatCommandHandler, DutyAndLedgerCommands>();
        return services;
    }
}
