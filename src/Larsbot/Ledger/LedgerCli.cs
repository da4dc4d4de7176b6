using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;

namespace Larsbot.Ledger;

/// <summary>
/// What `larsbot payout` and `larsbot ledger verify` do, over a built host's services (the commands themselves are
/// in Hosting/LedgerCommands.cs). Payout settles the days that have ended first, so the report is the ledger's.
/// </summary>
public static class LedgerCli
{
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
