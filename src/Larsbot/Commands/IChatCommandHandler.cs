using Larsbot.Roster;

namespace Larsbot.Commands;

/// <summary>
/// More commands for <see cref="ChatCommands"/>, one capability each (duty handover, the ledger), so the
/// dispatcher stays a short switch. Called only for roster people, with the command normalised (lower case,
/// single spaces) and the line as typed, for free text such as an incident report.
/// </summary>
public interface IChatCommandHandler
{
    /// <summary>True when the command was this handler's (it has answered in the channel).</summary>
    Task<bool> TryRunAsync(string nick, Person person, string command, string original);
}
