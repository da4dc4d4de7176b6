using Larsbot.Tests.Support;
using Dapper;
using Larsbot.Commands;
using Larsbot.Tests.Paging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Larsbot.Tests.Commands;

/// <summary>Help and typos as a tired person meets them at 3 a.m.: short lines, the nearest command, nothing run on a guess.</summary>
public sealed class CommandHelpTests : IDisposable
{
    private readonly EngineHarness _h = new();
    private readonly ChatCommands _commands;

    public CommandHelpTests() =>
        _commands = _h.Commands(time: _h.Clock);

    public void Dispose() => _h.Dispose();

    private async Task<List<string>> SayAsync(string nick, string line)
    {
        await _commands.RunAsync(TestRoster.Local(nick, line), ChatCommands.Extract(line, "Lars_Botlesen", isPrivate: false)!);
        return _h.Channel.Take();
    }

    [Fact]
    public void Help_for_shush_says_how_to_silence_every_host_on_purpose()
    {
        var lines = CommandHelp.For("shush")!;
        Assert.Contains(lines, l => l.Contains("--all", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.True(l.Length < 100, l));
    }

    [Fact]
    public async Task Help_is_five_short_lines_ending_with_how_to_get_details()
    {
        var lines = await SayAsync("brong", "lars help");
        Assert.InRange(lines.Count, 1, 5);
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} chars: {l}"));
        Assert.Contains("lars help <command>", lines[^1]);
        foreach (var command in new[] { "ack", "status", "duty", "duty take", "shush", "unshush", "report", "payout" })
            Assert.Contains(lines, l => l.Contains("lars " + command, StringComparison.Ordinal));
        Assert.Equal(lines, await SayAsync("brong", "Lars_Botlesen: commands"));
    }

    [Theory]
    [InlineData("ack", "lars ack: stops every countdown")]
    [InlineData("status", "lars status: ")]
    [InlineData("duty", "lars duty: ")]
    [InlineData("duty give", "lars duty: ")]
    [InlineData("lars duty history", "lars duty: ")]
    [InlineData("report", "lars report <alert-id>")]
    [InlineData("payout", "lars payout: ")]
    [InlineData("shush", "lars shush <host or glob>")]
    [InlineData("unshush", "lars shush <host or glob>")]
    [InlineData("help", "lars help: ")]
    public async Task Help_for_a_command_gives_its_details_in_a_few_lines(string topic, string start)
    {
        var lines = await SayAsync("brong", "lars help " + topic);
        Assert.StartsWith(start, lines[0], StringComparison.Ordinal);
        Assert.InRange(lines.Count, 1, 3);
        Assert.All(lines, l => Assert.True(l.Length <= 110, $"{l.Length} chars: {l}"));
        Assert.DoesNotContain(lines, l => l.StartsWith("details:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("lars akc", "ack")]
    [InlineData("lars stauts", "status")]
    [InlineData("lars duty tkae", "duty take")]
    [InlineData("lars dutytake", "duty take")]
    [InlineData("lars duty hist", "duty history")]
    [InlineData("lars duty gvie robn", "duty give robn")]
    [InlineData("lars shsh db* 2h kernel", "shush db* 2h kernel")]
    [InlineData("lars unshsuh 3", "unshush 3")]
    [InlineData("lars reprot 12 fixed it", "report 12 fixed it")]
    [InlineData("lars payuot", "payout")]
    [InlineData("lars hlep", "help")]
    [InlineData("Lars_Botlesen: sttaus!", "status")]
    public async Task A_typo_gets_the_nearest_command_and_nothing_is_run(string line, string meant)
    {
        await _h.AlertAsync("db1", "disk full");
        await _h.Engine.RunDueAsync();
        _h.Channel.Take();

        Assert.Equal([$"brong: did you mean 'lars {meant}'?"], await SayAsync("brong", line));

        Assert.Equal(Larsbot.Paging.CountdownState.Counting, Assert.Single(await _h.CountdownsAsync()).State);
        var nothing = await _h.Db.ReadAsync(async c => await c.ExecuteScalarAsync<long>(
            "SELECT (SELECT COUNT(*) FROM acks) + (SELECT COUNT(*) FROM duty_changes) + (SELECT COUNT(*) FROM silences)"));
        Assert.Equal(0, nothing);
    }

    [Theory]
    [InlineData("lars frobnicate", "frobnicate")]
    [InlineData("lars ack now please", "ack now please")]
    [InlineData("lars duty foo", "duty foo")]
    public async Task Nothing_close_gets_a_one_line_pointer_to_help(string line, string word)
    {
        Assert.Equal([$"brong: I don't know '{word}'. 'lars help' lists the commands."], await SayAsync("brong", line));
    }

    [Fact]
    public async Task Help_for_an_unknown_command_suggests_the_nearest_or_lists_the_commands()
    {
        Assert.Equal(["brong: did you mean 'lars help ack'?"], await SayAsync("brong", "lars help akc"));
        Assert.Equal(CommandHelp.Short, await SayAsync("brong", "lars help frobnicate"));
    }

    [Fact]
    public async Task Strangers_get_the_refusal_not_a_suggestion_and_help_at_most_once_a_minute()
    {
        Assert.Equal(["sorry mallory, you're not in the roster, so I can't take commands from you. Ask the team to add your nick."],
            await SayAsync("mallory", "lars akc"));
        Assert.Equal(CommandHelp.Short, await SayAsync("eve", "lars help"));
        Assert.Empty(await SayAsync("eve", "lars help"));
        Assert.Empty(await SayAsync("eve", "lars help ack"));
    }

    [Theory]
    [InlineData("akc", "ack", 1)]
    [InlineData("stauts", "status", 1)]
    [InlineData("shsh", "shush", 1)]
    [InlineData("ack", "ack", 0)]
    [InlineData("", "ack", 3)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("ca", "abc", 3)] // optimal string alignment: no edit after a swap
    public void Distance_counts_inserts_deletes_substitutions_and_swaps(string a, string b, int expected)
    {
        Assert.Equal(expected, CommandHelp.Distance(a, b));
        Assert.Equal(expected, CommandHelp.Distance(b, a));
    }
}
