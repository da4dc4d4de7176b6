using System.Globalization;
using System.Text.RegularExpressions;
using Larsbot.Duty;
using Larsbot.Outbox;
using Larsbot.Ledger;
using Larsbot.Roster;

namespace Larsbot.Commands;

/// <summary>`lars duty give/accept/decline/history`, `lars report`, `lars payout`.</summary>
internal sealed partial class DutyAndLedgerCommands(DutyHandover duty, IncidentReports reports, Payouts payouts, OutboxStore outbox) : IChatCommandHandler
{
    // The report text keeps its case and spacing, so it is taken from the line as typed, not the normalised command.
    [GeneratedRegex(@"\breport\s+#?(\d+)\s+(.+?)\s*$", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex ReportLine();

    public async Task<bool> TryRunAsync(string nick, Person person, string command, string original)
    {
        var words = command.Split(' ');
        switch (words)
        {
            case ["duty", "give", var target]:
                await duty.GiveAsync(nick, person, target);
                return true;
            case ["duty", "give"]:
                await outbox.SayAsync($"{nick}: say 'lars duty give <nick>' (they then have to say 'lars duty accept').");
                return true;
            case ["duty", "accept"]:
                await duty.AcceptAsync(nick, person);
                return true;
            case ["duty", "decline"]:
                await duty.DeclineAsync(nick, person);
                return true;
            case ["duty", "history"]:
                await outbox.SayAsync((await duty.HistoryAsync(person)).ToList());
                return true;
            case ["payout"]:
                await outbox.SayAsync(Payouts.Summary(await payouts.BuildAsync(payouts.MonthNow())));
                return true;
            case ["report", ..]:
                var m = ReportLine().Match(original);
                if (!m.Success || !long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var alertId))
                {
                    await outbox.SayAsync($"{nick}: say 'lars report <alert-id> <what broke and what you did, or a URL>'.");
                    return true;
                }
                await reports.FileAsync(nick, person, alertId, m.Groups[2].Value);
                return true;
            default:
                return false;
        }
    }
}
