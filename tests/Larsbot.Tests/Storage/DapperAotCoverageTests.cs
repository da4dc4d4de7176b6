using System.Text.RegularExpressions;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Storage;

/// <summary>
/// The native binary has no Reflection.Emit, so a Dapper call that Dapper.AOT did not generate fails there at run time
/// (and only there: on the JIT, Dapper quietly falls back to emitting). Dapper.AOT skips some calls without a word, for
/// example a query into a private nested class; and a call it does generate still reads tuple-typed rows through
/// Dapper's reflection path. This test finds every Dapper call in src/Larsbot and checks that the generator intercepted
/// each one and that none reads rows into a tuple, naming the file and line of any that fails.
/// </summary>
public class DapperAotCoverageTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static readonly Regex DapperCall = new(
        @"\.(Query|QueryAsync|QuerySingle|QuerySingleAsync|QuerySingleOrDefault|QuerySingleOrDefaultAsync|QueryFirst|QueryFirstAsync|QueryFirstOrDefault|QueryFirstOrDefaultAsync|Execute|ExecuteAsync|ExecuteScalar|ExecuteScalarAsync|GetRowParser)(<[^(]*>)?\(");

    private static readonly Regex Intercepted = new(@"InterceptsLocationAttribute\(""(?<path>[^""]+)"", (?<line>\d+), (?<col>\d+)\)");

    [Fact]
    public void Every_Dapper_call_in_the_bot_is_generated_by_Dapper_AOT()
    {
        var src = Path.Combine(RepoPaths.Root, "src", "Larsbot");
        var generated = Directory.EnumerateFiles(Path.Combine(src, "obj", Configuration, "net10.0", "generated"),
            "larsbot.generated.cs", SearchOption.AllDirectories).Single(f => f.Contains("Dapper.AOT"));
        var intercepted = Intercepted.Matches(File.ReadAllText(generated))
            .Select(m => (File: Path.GetFullPath(m.Groups["path"].Value), Line: int.Parse(m.Groups["line"].Value), Col: int.Parse(m.Groups["col"].Value)))
            .ToHashSet();

        var calls = new List<(string File, int Line, int Col, string Text)>();
        var tuples = new List<string>();
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")))
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
                foreach (Match m in DapperCall.Matches(lines[i]))
                {
                    // Plain ADO.NET on a SqliteCommand (cmd.ExecuteScalar()) is not Dapper.
                    if (m.Groups[1].Value is "ExecuteScalar" or "Execute" && m.Index + m.Length < lines[i].Length && lines[i][m.Index + m.Length] == ')') continue;
                    calls.Add((Path.GetFullPath(file), i + 1, m.Index + 2, lines[i].Trim()));
                    if (m.Groups[2].Value.StartsWith("<(", StringComparison.Ordinal))
                        tuples.Add($"{Path.GetRelativePath(RepoPaths.Root, file)}:{i + 1}: {lines[i].Trim()}");
                }
        }

        Assert.True(calls.Count > 100, $"only {calls.Count} Dapper calls found: the pattern no longer matches the code");
        var missed = calls.Where(c => !intercepted.Contains((c.File, c.Line, c.Col)))
            .Select(c => $"{Path.GetRelativePath(RepoPaths.Root, c.File)}:{c.Line}: {c.Text}").ToList();
        Assert.True(missed.Count == 0,
            "Dapper.AOT did not generate these calls (a private row type? a generic T?); the native binary would fail on them:\n"
            + string.Join("\n", missed));
        Assert.True(tuples.Count == 0,
            "These read rows into a tuple, which Dapper.AOT leaves to Dapper's reflection (fails in the native binary); use a row class:\n"
            + string.Join("\n", tuples));
    }
}
