using Larsbot.Irc;
using Xunit.Abstractions;

namespace Larsbot.Tests.Irc;

/// <summary>
/// SayLineAsync against a real ngircd. The Joined handlers run before the backlog is flushed, so a test that holds
/// a Joined handler on a gate knows for certain that nothing queued so far can have been written yet.
/// </summary>
public sealed class IrcClientSayLineTests(ITestOutputHelper output) : IrcClientTestBase(output)
{
    [Fact]
    public async Task Completes_once_written_in_queue_order_with_paging_lines_first_a_paging_line_cut_to_one()
    {
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);
        var (bot, held, gate) = StartHeldBot();
        await held.Task.WaitAsync(Timeout);

        var chatter1 = bot.SayLineAsync("help line 1", paging: false, CancellationToken.None);
        var page1 = bot.SayLineAsync("URGENT db1 - down", paging: true, CancellationToken.None);
        var chatter2 = bot.SayLineAsync("help line 2\nsecond line of the same reply", paging: false, CancellationToken.None);
        var page2 = bot.SayLineAsync("URGENT web1 - down", paging: true, CancellationToken.None);
        var all = new[] { chatter1, page1, chatter2, page2 };
        // In the channel, but the backlog waits for the Joined handlers: nothing has been written.
        Assert.DoesNotContain(all, t => t.IsCompleted);

        gate.SetResult();
        var results = await Task.WhenAll(all).WaitAsync(Timeout);
        Assert.All(results, Assert.True);
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.Contains(":help line 2"), Timeout);
        Assert.Equal(
            ["URGENT db1 - down", "URGENT web1 - down", "help line 1", @"help line 2\nsecond line of the same reply"],
            SaidBy("Lars", raw));

        var cut = bot.SayLineAsync(new string('y', 5000), paging: true, CancellationToken.None);
        Assert.True(await cut.WaitAsync(Timeout));
        bot.Say("sentinel");
        var sentinel = await raw.WaitForLineAsync(l => l.EndsWith(":sentinel"), Timeout);
        var piece = Assert.Single(raw.Lines, l => l.StartsWith(":Lars!") && l.Contains(":yyy"));
        Assert.EndsWith("…", piece);
        Assert.Empty(raw.LinesBetween(piece, sentinel));

        // A command's answer (chatter) may take a few lines, as Say does; it is said once every piece is written.
        var answer = bot.SayLineAsync(new string('z', 5000), paging: false, CancellationToken.None);
        Assert.True(await answer.WaitAsync(Timeout));
        bot.Say("sentinel 2");
        await raw.WaitForLineAsync(l => l.EndsWith(":sentinel 2"), Timeout);
        var pieces = raw.Lines.Where(l => l.StartsWith(":Lars!") && l.Contains(":zzz")).ToList();
        Assert.InRange(pieces.Count, 2, 10);
        Assert.EndsWith("…", pieces[^1]);
    }

    [Fact]
    public async Task A_line_queued_while_the_server_is_down_completes_when_said_after_the_rejoin()
    {
        var (bot, joined, disconnected, rejoined, gate, joins) = StartBotHeldAtRejoin();
        await joined.Task.WaitAsync(Timeout);

        await Server.StopAsync();
        await disconnected.Task.WaitAsync(Timeout);
        var said = bot.SayLineAsync("URGENT queued while down", paging: true, CancellationToken.None);

        await Server.RestartAsync();
        await rejoined.Task.WaitAsync(Timeout);
        Assert.False(said.IsCompleted, "completed before the line could be written");
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);
        gate.SetResult();

        Assert.True(await said.WaitAsync(Timeout));
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.EndsWith(":URGENT queued while down"), Timeout);
    }

    [Fact]
    public async Task Cancelling_before_the_line_is_written_withdraws_it_for_good()
    {
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);
        var (bot, held, gate) = StartHeldBot();
        await held.Task.WaitAsync(Timeout);

        using var cts = new CancellationTokenSource();
        var withdrawn = bot.SayLineAsync("URGENT never said", paging: true, cts.Token);
        var kept = bot.SayLineAsync("URGENT said", paging: true, CancellationToken.None);
        await cts.CancelAsync();
        var thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => withdrawn.WaitAsync(Timeout));
        Assert.Equal(cts.Token, thrown.CancellationToken);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => bot.SayLineAsync("URGENT too late", paging: true, cts.Token));

        gate.SetResult();
        Assert.True(await kept.WaitAsync(Timeout));
        // Queued after the withdrawn line in the same order, so once it is out the withdrawn one was passed over.
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.EndsWith(":URGENT said"), Timeout);
        Assert.Equal(["URGENT said"], SaidBy("Lars", raw));
    }

    [Fact]
    public async Task A_line_dropped_from_the_full_queue_completes_false_and_is_never_said()
    {
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);
        var (bot, held, gate) = StartHeldBot(o => o.SayQueueLimit = 2);
        await held.Task.WaitAsync(Timeout);

        var oldest = bot.SayLineAsync("help line 1", paging: false, CancellationToken.None);
        var page = bot.SayLineAsync("URGENT db1 - down", paging: true, CancellationToken.None);
        var newest = bot.SayLineAsync("help line 2", paging: false, CancellationToken.None);
        Assert.False(await oldest.WaitAsync(Timeout));

        gate.SetResult();
        Assert.True(await page.WaitAsync(Timeout));
        Assert.True(await newest.WaitAsync(Timeout));
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.EndsWith(":help line 2"), Timeout);
        Assert.Equal(["URGENT db1 - down", "help line 2"], SaidBy("Lars", raw));
    }

    [Fact]
    public async Task Disposing_the_client_answers_waiting_lines_not_said()
    {
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (bot, _, joined) = StartBot(o => { }, b => b.Disconnected += () => { disconnected.TrySetResult(); return Task.CompletedTask; });
        await joined.Task.WaitAsync(Timeout);
        await Server.StopAsync();
        await disconnected.Task.WaitAsync(Timeout);
        var waiting = bot.SayLineAsync("URGENT db1 - down", paging: true, CancellationToken.None);

        await bot.DisposeAsync();

        Assert.False(await waiting.WaitAsync(Timeout));
        Assert.False(await bot.SayLineAsync("after dispose", paging: true, CancellationToken.None).WaitAsync(Timeout));
    }
}
