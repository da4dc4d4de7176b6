using Larsbot.Roster;

namespace Larsbot.Duty;

/// <summary>
/// The channel topic, FastMail's format: mode, who is on duty, where they are and how to reach them.
/// "online, acked mode, Bron Gondwana in Australia/Melbourne on duty - e:brong@example.com, p:+61400000001,Pushover"
/// </summary>
public static class TopicComposer
{
    public static string Compose(Person? onDuty, bool ackMode)
    {
        var mode = ackMode ? "acked mode" : "normal mode";
        if (onDuty is null) return $"online, {mode}, nobody on duty";
        var contacts = new List<string>();
        // Shown*: masked when Irc:ShowContacts=false, for channels with people outside the team in them.
        if (onDuty.Email is not null) contacts.Add($"e:{onDuty.ShownEmail}");
        if (onDuty.Phone is not null) contacts.Add($"p:{onDuty.ShownPhone}" + (onDuty.HasPushover ? ",Pushover" : ""));
        else if (onDuty.HasPushover) contacts.Add("Pushover");
        var reach = contacts.Count > 0 ? " - " + string.Join(", ", contacts) : "";
        return $"online, {mode}, {onDuty.Name} in {onDuty.TimeZoneId} on duty{reach}";
    }
}
