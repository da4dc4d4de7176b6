namespace Larsbot.Roster;

/// <summary>What is allowed in a roster but weak: said by `larsbot check` and logged at start.</summary>
public static class RosterWarnings
{
    public static IReadOnlyList<string> For(TeamRoster roster)
    {
        var nickOnly = roster.People.Where(p => p.Accounts.Count == 0 && p.Hostmasks.Count == 0).ToList();
        if (nickOnly.Count == 0) return [];
        var who = string.Join(", ", nickOnly.Select(p => $"{p.Id} (nicks {string.Join(", ", p.Nicks)})"));
        var first = nickOnly[0];
        return
        [
            $"roster: {who} {(nickOnly.Count == 1 ? "is" : "are")} identified by nick alone: anyone can take that nick, " +
            "join the channel and ack or take duty as them. Add \"accounts\" (their services/NickServ account, e.g. " +
            $"\"accounts\": [\"{first.Id}\"]) or \"hostmasks\" (e.g. \"hostmasks\": [\"*!{first.Id}@*.example.com\"]) to each.",
        ];
    }
}
