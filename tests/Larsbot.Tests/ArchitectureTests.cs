using System.Text.RegularExpressions;
using Larsbot.Tests.Support;

namespace Larsbot.Tests;

/// <summary>
/// The shape docs/architecture.md describes, checked on the source: which folder may use which, no cycles, and no
/// file too long to read in one go. A folder "uses" another when it names it (`using Larsbot.X` or `Larsbot.X.Y`).
/// </summary>
public sealed partial class ArchitectureTests
{
    private static readonly string Src = Path.Combine(RepoPaths.Root, "src", "Larsbot");

    [GeneratedRegex(@"\bLarsbot\.([A-Z][A-Za-z]+)\b")]
    private static partial Regex FolderName();

    private static Dictionary<string, SortedSet<string>> Uses()
    {
        var folders = Directory.GetDirectories(Src).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).Cast<string>().ToHashSet();
        return folders.ToDictionary(f => f, f => new SortedSet<string>(
            Directory.EnumerateFiles(Path.Combine(Src, f), "*.cs", SearchOption.AllDirectories)
                .SelectMany(file => FolderName().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value))
                .Where(u => u != f && folders.Contains(u))));
    }

    [Fact]
    public void No_folder_depends_on_itself_through_others()
    {
        var uses = Uses();
        foreach (var start in uses.Keys)
        {
            // Depth-first from each folder: reaching it again is a cycle.
            var path = new Stack<string>();
            void Walk(string at)
            {
                foreach (var next in uses[at])
                {
                    Assert.False(next == start, $"folder cycle: {start} -> {string.Join(" -> ", path.Reverse().Append(at).Skip(1))} -> {start}");
                    if (path.Contains(next) || next == at) continue;
                    path.Push(next);
                    Walk(next);
                    path.Pop();
                }
            }
            path.Push(start);
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

    [Fact]
    public void No_source_file_is_over_400_lines()
    {
        var roots = new[] { Path.Combine(RepoPaths.Root, "src"), Path.Combine(RepoPaths.Root, "tests"), Path.Combine(RepoPaths.Root, "bench") };
        var tooLong = roots.Where(Directory.Exists)
            .SelectMany(r => Directory.EnumerateFiles(r, "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(f => (File: Path.GetRelativePath(RepoPaths.Root, f), Lines: File.ReadLines(f).Count()))
            .Where(f => f.Lines > 400)
            .Select(f => $"{f.File} ({f.Lines})")
            .ToList();
        Assert.Empty(tooLong);
    }
}
