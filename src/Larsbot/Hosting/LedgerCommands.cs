using System.CommandLine;
using Larsbot.Ledger;

namespace Larsbot.Hosting;

/// <summary>
/// `larsbot payout` and `larsbot ledger verify`: the same configuration as `run` (Database:Path, Roster:Path),
/// without starting the bot.
/// </summary>
internal static class LedgerCommands
{
    /// <summary>`larsbot payout [--month YYYY-MM] [--format md|csv|html] [--out FILE]`.</summary>
    internal static Command Payout()
    {
        var payout = new Command("payout",
            "print or write a month's payout report (default: this month so far, Markdown, to stdout); ended days are settled first")
        {
            new Option<string?>("--month") { Description = "the month, e.g. 2026-11 (default: this month)", HelpName = "YYYY-MM" },
            new Option<string?>("--format") { Description = "md, csv or html (default: from --out's extension, else md)", HelpName = "md|csv|html" },
            new Option<string?>("--out") { Description = "write the report to this file instead of stdout", HelpName = "FILE" },
        };
        payout.SetAction(async (parse, _) =>
        {
            var (configFile, configArgs) = Cli.HostArgs(parse);
            await using var app = LarsbotHost.Build(configArgs, configFile);
            return await LedgerCli.PayoutAsync(app.Services, LedgerCli.PayoutOptions(parse), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        });
        return Cli.WithOverrides(payout);
    }

    /// <summary>`larsbot ledger verify`.</summary>
    internal static Command Ledger()
    {
        var verify = new Command("verify",
            "recompute the ledger from the duty, page and ack rows; exit 1 on any difference");
        verify.SetAction(async (parse, _) =>
        {
            var (configFile, configArgs) = Cli.HostArgs(parse);
            await using var app = LarsbotHost.Build(configArgs, configFile);
            return await LedgerCli.VerifyAsync(app.Services, parse.InvocationConfiguration.Output);
        });
        return new Command("ledger", "the on-call ledger (bonuses and docks)") { Cli.WithOverrides(verify) };
    }
}
