using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Larsbot.Watchdog;

namespace Larsbot.Tests.Reliability;

/// <summary>The watchdog against the real bot process: kill -9 it, and everybody hears about it once; bring it back, all clear.</summary>
public sealed class ArbiterTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Killing_the_bot_pages_everybody_once_per_outage_and_an_all_clear_follows()
    {
        await using var irc = await NgircdServer.StartAsync();
        await using var botProviders = await FakeProviders.StartAsync();
        await using var arbiterProviders = await FakeProviders.StartAsync();
        using var db = new TempDatabase();
        var settings = RunningBot.Settings(irc.Port, botProviders, db);
        settings["Intake:TcpPort"] = "-1";
        settings.Remove("Intake:HttpUrl");
        var port = Ports.Free();
        var bot = BotProcess.Start(settings, port, db.Dir);
        await bot.WaitReadyAsync(Wait);

        // The arbiter has its own roster and its own provider credentials, as on another machine.
        var arbiterSettings = RunningBot.Settings(irc.Port, arbiterProviders, db);
        var arbiter = ArbiterHost.Build(["--target", $"http://127.0.0.1:{port}", "--every", "200ms"], null, arbiterSettings, out var services);
        await using var _ = services;
        using var stop = new CancellationTokenSource();
        var running = arbiter.RunAsync(stop.Token);
        try
        {
            await Eventually.TrueAsync(() => arbiter.Checks >= 3, Wait);
            Assert.Empty(arbiterProviders.TwilioRequests);

            bot.Kill();
            await arbiterProviders.WaitForTwilioRequestAsync(3, Wait);
            await arbiterProviders.WaitForPushoverRequestAsync(2, Wait);
            Assert.All(arbiterProviders.TwilioRequests, r => Assert.StartsWith($"LARSBOT DOWN: 127.0.0.1:{port} failed 2 checks since", r["Body"]));
            Assert.Equal(["+4790000003", "+61400000001", "+61400000002"], arbiterProviders.TwilioRequests.Select(r => r["To"]).Order());

            // Still down for several more checks: nobody is paged again for the same outage.
            var checks = arbiter.Checks;
            await Eventually.TrueAsync(() => arbiter.Checks >= checks + 5, Wait);
            Assert.Equal(3, arbiterProviders.TwilioRequests.Count);
            Assert.Equal(2, arbiterProviders.PushoverRequests.Count);
            Assert.True(arbiter.InOutage);

            await bot.DisposeAsync();
            bot = BotProcess.Start(settings, port, db.Dir);
            await bot.WaitReadyAsync(Wait);
            await arbiterProviders.WaitForTwilioRequestAsync(6, Wait);
            await arbiterProviders.WaitForPushoverRequestAsync(4, Wait);
            Assert.All(arbiterProviders.TwilioRequests.Skip(3), r => Assert.StartsWith($"larsbot all clear: 127.0.0.1:{port} is healthy again after", r["Body"]));
            Assert.False(arbiter.InOutage);
            // The bot's own providers never heard of any of this.
            Assert.Empty(botProviders.TwilioRequests);
        }
        finally
        {
            stop.Cancel();
            await running;
            await bot.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("1m", 60_000)]
    [InlineData("30s", 30_000)]
    [InlineData("250ms", 250)]
    [InlineData("00:02:00", 120_000)]
    public void Durations_read_the_way_people_write_them(string text, int ms) =>
        Assert.Equal(TimeSpan.FromMilliseconds(ms), ArbiterHost.ParseDuration(text, "--every"));
}
