using Dapper;
using Larsbot.Commands;
using Larsbot.Irc;
using Larsbot.Roster;
using Larsbot.Tests.Paging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Larsbot.Tests.Commands;

/// <summary>
/// Lines as the IRC reader hands them over: a flood of chatter and strangers' commands must never cost a roster
/// person's command, and an ack is handled ahead of other waiting commands, in the order acks were typed.
/// </summary>
public sealed class ChatCommandQueueTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly EngineHarness _h = new();
    private readonly Hold _hold = new();

    public ChatCommandQueueTests() =>
        _ = _h.Commands([_hold], _h.Clock);

    public void Dispose()
    {
        _hold.Release.TrySetResult();
        _h.Dispose();
    }

    /// <summary>`lars hold` keeps the command worker busy until released, so what arrives meanwhile has to wait.</summary>
    private sealed class Hold : IChatCommandHandler
    {
        public readonly TaskCompletionSource Entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource Release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<bool> TryRunAsync(string nick, Person person, string command, string original)
        {
            if (command != "hold") return false;
            Entered.TrySetResult();
            await Release.Task;
            return true;
        }
    }

    private Task Line(string nick, string text) =>
        _h.Channel.SimulateMessageAsync(new ChannelMessage(nick, nick, "127.0.0.1", "#ops", text, null));

    private async Task FloodAsync(int lines, string tag)
    {
        for (var i = 0; i < lines; i++)
        {
            await Line($"stranger{i % 40}", $"lars foo {tag}{i}");
            await Line($"chatty{i % 7}", $"so anyway, about that deploy {tag}{i}");
        }
    }

    [Fact]
    public async Task Acks_behind_and_ahead_of_thousands_of_strangers_lines_are_obeyed_first_and_in_order()
    {
        await _h.AlertAsync("db1", "disk full");
        await _h.Engine.RunDueAsync();
        _h.Channel.Take();

        await Line("brong", "lars hold");
        await _hold.Entered.Task.WaitAsync(Wait);
        await FloodAsync(1500, "before");
        await Line("robn", "lars status");
        await Line("brong_", "lars ack");
        await Line("neilj", "LARS ACK!");
        await FloodAsync(1500, "after"); // with a 1000-line queue dropping the oldest, this pushed both acks out
        _hold.Release.SetResult();

        await _h.Channel.WaitForAsync(l => l.StartsWith("status: ", StringComparison.Ordinal), Wait);
        await _h.Channel.WaitForAsync(l => l.StartsWith("sorry stranger", StringComparison.Ordinal), Wait);
        var lines = _h.Channel.Lines.ToList();
        var first = lines.FindIndex(l => l.StartsWith("ack: OK brong_ acked 1 issues", StringComparison.Ordinal));
        var second = lines.FindIndex(l => l.StartsWith("ack: no issues to ack", StringComparison.Ordinal));
        var status = lines.FindIndex(l => l.StartsWith("status: ", StringComparison.Ordinal));
        var refusal = lines.FindIndex(l => l.StartsWith("sorry stranger", StringComparison.Ordinal));
        Assert.True(first >= 0 && first < second && second < status && status < refusal, string.Join('\n', lines));
        var acks = await _h.Db.ReadAsync(async c => (await c.QueryAsync<string>("SELECT nick FROM acks ORDER BY id")).ToList());
        Assert.Equal(["brong_", "neilj"], acks);
        Assert.Equal(Larsbot.Paging.CountdownState.Acked, Assert.Single(await _h.CountdownsAsync()).State);
        // Strangers got the rate-limited refusals only (five a minute overall), however many they sent.
        Assert.InRange(lines.Count(l => l.StartsWith("sorry ", StringComparison.Ordinal)), 1, 5);
    }
}
