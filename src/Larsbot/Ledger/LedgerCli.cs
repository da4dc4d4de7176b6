using System.Globalization;
using Microsoft.Extensions.DependencyInjection;

namespace Larsbot.Ledger;

/// <summary>
/// `larsbot payout` and `larsbot ledger verify`: the same configuration as `run` (Database:Path, Roster:Path),
/// without starting the bot. Payout settles the days that have ended first, so the report is the ledger's.
/// </summary>
public static class LedgerCli
{
    public const string Usage =
        "       larsbot payout [--month YYYY-MM] [--format md|csv|html] [--out FILE] [--config FILE]\n" +
        "                                      the month's payout report (default: this month so far, Markdown, stdout)\n" +
        "       larsbot ledger verify [--config FILE]  recompute the ledger from duty, page and ack rows; exit 1 on any difference";

    /// <summary>Takes this verb's own options out of <paramref name="args"/>; what is left goes to the configuration.</summary>
    public static (Dictionary<string, string> Options, string[] Remaining) SplitOptions(IReadOnlyList<string> args, params string[] names)
    {
        var options = new Dictionary<string, string>();
        var rest = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            if (names.Contains(args[i]) && i + 1 < args.Count) options[args[i][2..]] = args[++i];
            else rest.Add(args[i]);
        }
        return (options, [.. rest]);
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
