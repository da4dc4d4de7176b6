using System.CommandLine;
using System.Globalization;
using Larsbot.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Larsbot.Ledger;

/// <summary>
/// `larsbot payout` and `larsbot ledger verify`: the same configuration as `run` (Database:Path, Roster:Path),
/// without starting the bot. Payout settles the days that have ended first, so the report is the ledger's.
/// </summary>
public static class LedgerCli
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
            return await PayoutAsync(app.Services, PayoutOptions(parse), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
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
            return await VerifyAsync(app.Services, parse.InvocationConfiguration.Output);
        });
        return new Command("ledger", "the on-call ledger (bonuses and docks)") { Cli.WithOverrides(verify) };
    }

    /// <summary>The payout options given, by name without dashes ("month", "format", "out").</summary>
    internal static Dictionary<string, string> PayoutOptions(ParseResult parse)
    {
        var options = new Dictionary<string, string>();
        foreach (var name in new[] { "month", "format", "out" })
            if (parse.GetValue<string?>("--" + name) is { } value) options[name] = value;
        return options;
    }

    public static async Task<int> PayoutAsync(IServiceProvider services, IReadOnlyDictionary<string, string> options, TextWriter stdout, TextWriter stderr)
    {
        var payouts = services.GetRequiredService<Payouts>();
        var month = options.GetValueOrDefault("month") ?? payouts.MonthNow();
        if (!DateOnly.TryParseExact(month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            await stderr.WriteLineAsync($"larsbot: --month '{month}' is not YYYY-MM (e.g. 2026-11)");
            return 64;
        }
        var format = options.GetValueOrDefault("format") ?? (options.GetValueOrDefault("out") is { } o ? FormatOf(o) : "md");
        if (!PayoutReport.Formats.Contains(format))
        {
            await stderr.WriteLineAsync($"larsbot: --format '{format}' is not one of md, csv, html");
            return 64;
        }
        var text = (await payouts.BuildAsync(month)).Render(format);
        if (options.GetValueOrDefault("out") is { } file)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(file));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            await File.WriteAllTextAsync(file, text);
            await stdout.WriteLineAsync($"wrote {Path.GetFullPath(file)}");
        }
        else
        {
            await stdout.WriteAsync(text);
        }
        return 0;
    }

    private static string FormatOf(string file) => Path.GetExtension(file).TrimStart('.').ToLowerInvariant() switch
    {
        "csv" => "csv",
        "html" or "htm" => "html",
        _ => "md",
    };

    public static async Task<int> VerifyAsync(IServiceProvider services, TextWriter stdout)
    {
        var ledger = services.GetRequiredService<LedgerStore>();
        var differences = await ledger.VerifyAsync(services.GetRequiredService<TimeProvider>().GetUtcNow());
        if (differences.Count == 0)
        {
            await stdout.WriteLineAsync("ok: the ledger matches the duty, page and ack rows for every day that has ended");
            return 0;
        }
        await stdout.WriteLineAsync($"{differences.Count} difference(s) between the ledger and the rules (the bot appends corrections when it next settles):");
        foreach (var d in differences) await stdout.WriteLineAsync("  " + d);
        return 1;
    }
}
