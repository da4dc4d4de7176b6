using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Xunit.Abstractions;

namespace Larsbot.Tests.EndToEnd;

/// <summary>
/// The page loop as people see it: alerts in over HTTP and TCP, the lines in the channel seen from a second IRC
/// connection, acks typed there, and SMS + push arriving (or not) at the loopback Twilio and Pushover.
/// </summary>
public class PageLoopEndToEndTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Run the Native AOT executable (scripts/publish.sh) instead of the bot in this process.</summary>
    protected virtual bool Native => false;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private BotRig _rig = null!;
    private NgircdServer _irc = null!;
    private FakeProviders _providers = null!;
    private TempDatabase _db = null!;
    private RunningBot _bot = null!;
    private RawIrcClient _brong = null!;

    public async Task InitializeAsync()
    {
        _rig = await BotRig.StartAsync();
        (_irc, _providers, _db, _) = _rig;
        _bot = await RunningBot.StartAsync(RunningBot.Settings(_irc.Port, _providers, _db), Native);
        await _bot.WaitHealthyAsync();
        _brong = await RawIrcClient.ConnectAsync(_irc.Port, "brong_");
        await _brong.JoinAsync(RunningBot.Channel);
    }

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(_brong, _bot, _rig);
    }

    private Task<string> SaysAsync(string text) =>
        _brong.WaitForLineAsync(l => l.Contains($"PRIVMSG {RunningBot.Channel} :{text}", StringComparison.Ordinal), Wait);

    private Task<string> SaysStartingAsync(string text) =>
        _brong.WaitForLineAsync(l => l.Contains($"PRIVMSG {RunningBot.Channel} :{text}", StringComparison.Ordinal), Wait);

    private Task TellBotAsync(string text) => _brong.SendAsync($"PRIVMSG {RunningBot.Channel} :{text}");

    [Fact]
    public async Task Http_alert_counts_down_in_the_channel_and_an_ack_from_IRC_purges_the_page()
    {
        await TellBotAsync("lars duty take");
        await _brong.WaitForLineAsync(l => RawIrcClient.Is(l, "TOPIC") && l.Contains("online, normal mode, Bron Gondwana in Australia/Melbourne on duty - e:brong@example.com, p:+61400000001,Pushover"), Wait);

        var sw = Stopwatch.StartNew();
        await _bot.PostAlertAsync("gateway2", "urgent", "rblcheck: listed");
        await SaysAsync("URGENT gateway2 - rblcheck: listed");
        output.WriteLine($"POST to URGENT line: {sw.Elapsed.TotalMilliseconds:F1} ms");
        await SaysAsync("LarsSMS: 'gateway2: rblcheck: listed' in 2 secs to brong (+61400000001)");

        await TellBotAsync("lars ack");
        await SaysAsync("ack: OK brong_ acked 1 issues. Ack mode enabled for 4 secs");
        // The topic goes out on the client's control path, so it may overtake the purge line; both must be there.
        Assert.Contains(_brong.Lines, l => l.EndsWith($"PRIVMSG {RunningBot.Channel} :sms purged: brong (+61400000001) 'gateway2: rblcheck: listed'"));
        Assert.Contains(_brong.Lines, l => RawIrcClient.Is(l, "TOPIC") && l.EndsWith(":online, acked mode, Bron Gondwana in Australia/Melbourne on duty - e:brong@example.com, p:+61400000001,Pushover"));

        // Ack mode lasts 4 s, well past the 3 s page deadline: when it ends, no page may have gone out.
        await SaysAsync("ack mode over: back to normal mode, urgent alerts page again");
        // The topic's order against other lines is not promised: any line received so far, or later.
        if (!await Eventually.HoldsAsync(() => _brong.Lines.Any(l => RawIrcClient.Is(l, "TOPIC") && l.Contains(":online, normal mode, Bron Gondwana")), Wait))
            throw new TimeoutException("line never seen:\n" + string.Join('\n', _brong.Lines));
        Assert.Empty(_providers.TwilioRequests);
        Assert.Empty(_providers.PushoverRequests);
    }

    [Fact]
    public async Task Tcp_alert_with_no_ack_pages_the_person_on_duty_then_everybody()
    {
        await TellBotAsync("Lars_Botlesen: duty take");
        await SaysStartingAsync("duty: Bron Gondwana (brong_) is now on duty");

        var reply = await TcpAsync("urgent db1 replication stopped\n");
        Assert.Matches(@"^OK \d+$", reply);
        await SaysAsync("URGENT db1 - replication stopped");
        await SaysAsync("LarsSMS: 'db1: replication stopped' in 1 secs to brong (+61400000001)");
        await SaysStartingAsync("LarsSMS: paging brong (+61400000001) now: 'db1: replication stopped'");

        var sms = await _providers.WaitForTwilioRequestAsync(1, Wait);
        Assert.Equal("+61400000001", sms["To"]);
        Assert.Equal(FakeProviders.DefaultTwilioFrom, sms["From"]);
        Assert.Equal("db1: replication stopped", sms["Body"]);
        var push = await _providers.WaitForPushoverRequestAsync(1, Wait);
        Assert.Equal("uQiRzpo4DXghDmr9QzzfQu27cmVRsG", push["user"]);
        Assert.Equal("db1: replication stopped", push["message"]);
        Assert.Equal("1", push["priority"]);

        await SaysStartingAsync("LarsSMS: nobody acked in 3 secs, paging everybody");
        await _providers.WaitForTwilioRequestAsync(4, Wait);
        await _providers.WaitForPushoverRequestAsync(3, Wait);
        Assert.Equal(["+4790000003", "+61400000001", "+61400000001", "+61400000002"], _providers.TwilioRequests.Select(r => r["To"]).Order());
        Assert.Equal(3, _providers.PushoverRequests.Count);

        // An ack now covers the escalated alert and nothing more is paged. The two others who were woken (robn and
        // neilj; brong acked) each get one follow-up SMS saying brong has it (issue 18: intentionally new).
        await TellBotAsync("lars ack");
        await SaysAsync("ack: OK brong_ acked 1 issues. Ack mode enabled for 4 secs");
        await SaysAsync("ack mode over: back to normal mode, urgent alerts page again");
        await _providers.WaitForTwilioRequestAsync(6, TimeSpan.FromSeconds(10));
        var followUps = _providers.TwilioRequests.Skip(4).ToList();
        Assert.Equal(["+4790000003", "+61400000002"], followUps.Select(r => r["To"]).Order());
        Assert.All(followUps, r => Assert.StartsWith("lars: brong has it (acked ", r["Body"]));
        Assert.Equal(6, _providers.TwilioRequests.Count);
        Assert.Equal(3, _providers.PushoverRequests.Count);
    }

    [Fact]
    public async Task Ack_mode_announces_without_paging_and_ack_with_nothing_pending_says_so()
    {
        await TellBotAsync("LARS ACK!");
        await SaysAsync("ack: no issues to ack. Ack mode enabled for 4 secs");
        await _bot.PostAlertAsync("web3", "urgent", "HTTP 500s");
        await SaysAsync("URGENT web3 - HTTP 500s (ack mode, not paging)");
        await SaysAsync("ack mode over: back to normal mode, urgent alerts page again");
        Assert.Empty(_providers.TwilioRequests);
    }

    [Fact]
    public async Task Strangers_are_refused_politely_and_cannot_ack()
    {
        await using var mallory = await RawIrcClient.ConnectAsync(_irc.Port, "mallory");
        await mallory.JoinAsync(RunningBot.Channel);
        await _bot.PostAlertAsync("gateway2", "urgent", "down");
        await SaysAsync("URGENT gateway2 - down");
        await mallory.SendAsync($"PRIVMSG {RunningBot.Channel} :lars ack");
        await SaysAsync("sorry mallory, you're not in the roster, so I can't take commands from you.");
        // Nobody on duty: the page goes to everybody, proving the stranger's ack did nothing.
        await SaysStartingAsync("LarsSMS: nobody on duty, paging everybody now");
        await _providers.WaitForTwilioRequestAsync(3, Wait);
    }

    [Fact]
    public async Task Status_help_and_duty_answer_in_the_channel()
    {
        await TellBotAsync("lars help");
        await SaysStartingAsync("lars ack: stop the page");
        await SaysStartingAsync("details: lars help <command>");
        await TellBotAsync("lars duty");
        await SaysStartingAsync("duty: nobody is on duty.");
        await TellBotAsync("lars status");
        await SaysStartingAsync("status: normal mode; on duty: nobody (pages go to everybody)");
        await SaysAsync("status: no open alerts");
        await TellBotAsync("lars frobnicate");
        await SaysAsync("brong_: I don't know 'frobnicate'. 'lars help' lists the commands.");
        await TellBotAsync("lars akc");
        await SaysAsync("brong_: did you mean 'lars ack'?");
    }

    [Fact]
    public async Task Alert_text_cannot_inject_an_IRC_command()
    {
        await _bot.PostAlertAsync("gateway2", "irc", "[\n   \"listed\"\r\nPRIVMSG #ops :pwned\0QUIT :bye");
        var line = await SaysStartingAsync("irc gateway2 - ");
        Assert.EndsWith(@"irc gateway2 - [\n   ""listed""\r\nPRIVMSG #ops :pwned\0QUIT :bye", line);
        await TellBotAsync("lars help");
        await SaysStartingAsync("lars ack: stop the page");
        // One line carried the whole text; nothing the server or another client saw became a command of its own.
        Assert.Single(_brong.Lines, l => l.Contains("pwned"));
        Assert.DoesNotContain(_brong.Lines, l => RawIrcClient.Is(l, "QUIT") || l.EndsWith(" :pwned"));
    }

    private async Task<string> TcpAsync(string lines)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", _bot.TcpPort);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(lines));
        using var reader = new StreamReader(stream);
        return (await reader.ReadLineAsync())!;
    }
}

/// <summary>The same, against the deployed native executable.</summary>
public sealed class PageLoopEndToEndNativeTests(ITestOutputHelper output) : PageLoopEndToEndTests(output)
{
    protected override bool Native => true;
}
