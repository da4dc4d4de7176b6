using Larsbot.Tests.Support;
using Xunit.Abstractions;

namespace Larsbot.Tests.Irc;

public sealed class IrcClientReconnectTests(ITestOutputHelper output) : IrcClientTestBase(output)
{
    [Fact]
    public async Task Reconnects_after_server_restart_and_delivers_queued_lines()
    {
        var (bot, joined, disconnected, rejoined, gate, joins) = StartBotHeldAtRejoin();
        await joined.Task.WaitAsync(Timeout);
        var firstConnect = bot.LastConnectedAt;

        await Server.StopAsync();
        await disconnected.Task.WaitAsync(Timeout);
        Assert.False(bot.IsConnected);
        bot.Say("queued while down");

        await Server.RestartAsync();
        await rejoined.Task.WaitAsync(Timeout);
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);
        gate.SetResult();

        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.EndsWith(":queued while down"), Timeout);
        Assert.True(bot.IsConnected);
        Assert.Equal(2, joins());
        Assert.True(bot.LastConnectedAt > firstConnect);
    }

    [Fact]
    public async Task Pings_a_silent_server_and_reconnects_when_it_stays_silent()
    {
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var rejoined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var joins = 0;
        var frozen = false;
        // ngircd goes quiet for a second after registration; PingIdle must exceed that or the bot (rightly) gives up.
        var (bot, log, joined) = StartBot(o => o.PingIdle = TimeSpan.FromMilliseconds(1500), b =>
        {
            b.Disconnected += () =>
            {
                if (Volatile.Read(ref frozen))
                    disconnected.TrySetResult();
                return Task.CompletedTask;
            };
            b.Joined += () =>
            {
                if (Interlocked.Increment(ref joins) == 2)
                    rejoined.TrySetResult();
                return Task.CompletedTask;
            };
        });
        await joined.Task.WaitAsync(Timeout);

        Volatile.Write(ref frozen, true);
        await Server.FreezeAsync();
        try
        {
            await disconnected.Task.WaitAsync(Timeout);
            Assert.False(bot.IsConnected);
            Assert.Contains(log.Entries, e => e.Contains("IRC >> PING"));
        }
        finally
        {
            await Server.ThawAsync();
        }

        await rejoined.Task.WaitAsync(Timeout);
        Assert.True(bot.IsConnected);
    }

    [Fact]
    public async Task Connects_over_tls_to_a_self_signed_server()
    {
        await ReplaceServerAsync(tls: true);
        var (bot, _, joined) = StartBot(o =>
        {
            o.Port = Server.TlsPort!.Value;
            o.Tls = true;
            o.TlsAcceptAnyCertificate = true;
        });
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);
        await joined.Task.WaitAsync(Timeout);

        bot.Say("over tls");
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.EndsWith(":over tls"), Timeout);
    }

    [Fact]
    public async Task Refuses_an_untrusted_certificate_unless_told_otherwise()
    {
        await ReplaceServerAsync(tls: true);
        var (bot, log, _) = StartBot(o =>
        {
            o.Port = Server.TlsPort!.Value;
            o.Tls = true;
        });

        await Eventually.TrueAsync(() => log.Entries.Any(e => e.Contains("failed") && e.Contains("certificate", StringComparison.OrdinalIgnoreCase)), Timeout);
        Assert.False(bot.IsConnected);
    }

    [Fact]
    public async Task Rejoins_after_a_kick()
    {
        var op = await Raw("Oper");
        await op.JoinAsync(Chan);
        var joins = 0;
        var rejoined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (bot, _, joined) = StartBot(o => { }, b => b.Joined += () =>
        {
            if (Interlocked.Increment(ref joins) == 2)
                rejoined.TrySetResult();
            return Task.CompletedTask;
        });
        await joined.Task.WaitAsync(Timeout);

        await op.SendAsync($"KICK {Chan} Lars :out");
        await rejoined.Task.WaitAsync(Timeout);
        Assert.True(bot.IsConnected);
        bot.Say("back");
        await op.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.EndsWith(":back"), Timeout);
    }
}
