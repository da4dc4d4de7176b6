using Larsbot.Setup;
using System.Text.RegularExpressions;
using Larsbot.Tests.Support;
using Xunit.Abstractions;

namespace Larsbot.Tests;

/// <summary>
/// The shape docs/architecture.md describes, checked on the source: which folder may use which, no cycles, and no
/// file too long to read in one go. A folder uses another when it names its namespace (`using Larsbot.Outbox`,
/// `Larsbot.Paging.X`) or one of its types through it (`Setup.StartupException`).
/// </summary>
public sealed partial class ArchitectureTests(ITestOutputHelper output)
{
    private static readonly string Src = Path.Combine(RepoPaths.Root, "src", "Larsbot");

    [GeneratedRegex(@"\bLarsbot\.([A-Z][A-Za-z]+)\b")]
    private static partial Regex Namespace();

    // Not after a word or a dot: `person.Email.Length` is a property, `Setup.StartupException` a folder's type.
    [GeneratedRegex(@"(?<![\w.])([A-Z][A-Za-z]+)\.([A-Z][A-Za-z]+)")]
    private static partial Regex Qualified();

    [GeneratedRegex(@"\b(?:class|record|enum|interface|struct)\s+([A-Z][A-Za-z]+)")]
    private static partial Regex Declared();

    private static IEnumerable<string> Files(string folder) =>
        Directory.EnumerateFiles(Path.Combine(Src, folder), "*.cs", SearchOption.AllDirectories);

    /// <summary>Which folders each folder uses.</summary>
    private static Dictionary<string, SortedSet<string>> Uses()
    {
        var folders = Directory.GetDirectories(Src).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).Cast<string>().ToList();
        var types = folders.ToDictionary(f => f,
            f => Files(f).SelectMany(file => Declared().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value)).ToHashSet());
        return folders.ToDictionary(f => f, f => new SortedSet<string>(Files(f).SelectMany(file =>
        {
            var text = File.ReadAllText(file);
            return Namespace().Matches(text).Select(m => m.Groups[1].Value)
                .Concat(Qualified().Matches(text)
                    .Where(m => types.TryGetValue(m.Groups[1].Value, out var declared) && declared.Contains(m.Groups[2].Value))
                    .Select(m => m.Groups[1].Value));
        }).Where(u => u != f && types.ContainsKey(u))));
    }

    [Fact]
    public void No_folder_depends_on_itself_through_others()
    {
        var uses = Uses();
        foreach (var (folder, used) in uses.OrderBy(u => u.Key)) output.WriteLine($"{folder} -> {string.Join(' ', used)}");
        foreach (var start in uses.Keys)
        {
            // Depth-first from each folder: coming back to it is a cycle.
            var seen = new HashSet<string>();
            var path = new List<string> { start };
            void Walk(string at)
            {
                foreach (var next in uses[at])
                {
                    Assert.False(next == start, $"folder cycle: {string.Join(" -> ", path)} -> {start}");
                    if (!seen.Add(next)) continue;
                    path.Add(next);
                    Walk(next);
                    path.RemoveAt(path.Count - 1);
                }
            }
            Walk(start);
        }
    }

    [Theory]
    [InlineData("Paging", "Irc")]
    [InlineData("Paging", "Notify")]
    [InlineData("Paging", "Intake")]
    [InlineData("Storage", "Irc")]
    [InlineData("Notify", "Irc")]
    [InlineData("Ledger", "Irc")]
    [InlineData("Outbox", "Irc")]
    [InlineData("Outbox", "Paging")]
    public void The_engine_and_the_stores_say_nothing_to_IRC_directly(string folder, string forbidden) =>
        Assert.DoesNotContain(forbidden, Uses()[folder]);

    [GeneratedRegex(@"\b(?:DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+(?:ONLY\s+)?""?alerts""?(?![\w])", RegexOptions.IgnoreCase)]
    private static partial Regex DeletesAlerts();

    /// <summary>
    /// Alerts are history, and the engine's handled mark relies on it (Paging/HandledMark.cs): SQLite hands the
    /// highest id out again once that row is gone, and an alert at or below the mark is taken as handled.
    /// </summary>
    [Fact]
    public void Nothing_deletes_alerts()
    {
        var sep = Path.DirectorySeparatorChar;
        var deleting = Directory.EnumerateFiles(Src, "*.*", SearchOption.AllDirectories)
            .Where(f => (f.EndsWith(".cs") || f.EndsWith(".sql")) && !f.Contains($"{sep}obj{sep}") && !f.Contains($"{sep}bin{sep}"))
            .Where(f => DeletesAlerts().IsMatch(File.ReadAllText(f)))
            .Select(f => Path.GetRelativePath(RepoPaths.Root, f)).ToList();
        Assert.True(DeletesAlerts().IsMatch("DELETE FROM alerts WHERE id = 1"), "the rule must see a delete");
        Assert.False(DeletesAlerts().IsMatch("DELETE FROM alert_events WHERE id = 1"), "alert_events are not alerts");
        Assert.Empty(deleting);
    }

    [Fact]
    public void No_source_file_is_over_400_lines()
    {
        var sep = Path.DirectorySeparatorChar;
        var tooLong = new[] { "src", "tests", "bench" }.Select(r => Path.Combine(RepoPaths.Root, r)).Where(Directory.Exists)
            .SelectMany(r => Directory.EnumerateFiles(r, "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{sep}obj{sep}") && !f.Contains($"{sep}bin{sep}"))
            .Select(f => (File: Path.GetRelativePath(RepoPaths.Root, f), Lines: File.ReadLines(f).Count()))
            .Where(f => f.Lines > 400)
            .Select(f => $"{f.File} ({f.Lines})")
            .ToList();
        Assert.Empty(tooLong);
    }
}
