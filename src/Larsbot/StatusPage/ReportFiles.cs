using System.Text.RegularExpressions;
using Larsbot.Ledger;
using Microsoft.Extensions.Options;

namespace Larsbot.StatusPage;

/// <summary>A month's payout report files, as the monthly job wrote them.</summary>
internal sealed record ReportMonth(string Month, IReadOnlyList<string> Files);

/// <summary>
/// The payout reports in Ledger:ReportFolder, read-only. Only names the monthly job itself writes
/// (payout-YYYY-MM.md|csv|html) are ever listed or served: anything else, including "..", slashes, encoded separators
/// and symlinks, is "not found", so the status page can never be made to read another file.
/// </summary>
internal sealed partial class ReportFiles(IOptions<LedgerOptions> options)
{
    // \z, not $: $ also matches before a final newline.
    [GeneratedRegex(@"^payout-(?<month>[0-9]{4}-(0[1-9]|1[0-2]))\.(?<ext>md|csv|html)\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    private string Folder => Path.GetFullPath(options.Value.ReportFolder);

    public static bool IsReportName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>Newest month first; html first within a month (the one meant for people).</summary>
    public IReadOnlyList<ReportMonth> List()
    {
        if (!Directory.Exists(Folder)) return [];
        return Directory.EnumerateFiles(Folder, "payout-*")
            .Select(Path.GetFileName)
            .Where(n => Find(n) is not null)
            .Select(n => (Name: n!, Match: NamePattern().Match(n!)))
            .GroupBy(x => x.Match.Groups["month"].Value)
            .OrderByDescending(g => g.Key, StringComparer.Ordinal)
            .Select(g => new ReportMonth(g.Key, g.OrderBy(x => Array.IndexOf(PayoutReport.Formats, x.Match.Groups["ext"].Value) switch { 2 => 0, var i => i + 1 })
                .Select(x => x.Name).ToList()))
            .ToList();
    }

    /// <summary>The file's full path, or null when the name is not a report name or no such regular file exists.</summary>
    public string? Find(string? name)
    {
        if (!IsReportName(name)) return null;
        var folder = Folder;
        var path = Path.GetFullPath(Path.Combine(folder, name!));
        // Belt and braces: the pattern already excludes separators, but the check costs nothing.
        if (!string.Equals(Path.GetDirectoryName(path), folder.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal)) return null;
        var info = new FileInfo(path);
        // A symlink in the report folder could point anywhere; the monthly job never writes one.
        if (!info.Exists || info.LinkTarget is not null) return null;
        return path;
    }

    public static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".csv" => "text/csv; charset=utf-8",
        // Markdown as plain text so a browser shows it instead of offering a download.
        _ => "text/plain; charset=utf-8",
    };
}
