using Larsbot.Outbox;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Xunit.Abstractions;

namespace Larsbot.Tests.EndToEnd;

/// <summary>
/// The real bot process, a real ngircd and the Twilio/Pushover stand-in: after `lars ack` nothing new goes out (even
/// from a slow provider, even across a kill -9), and an unkeyed check still firing after ack mode pages again.
/// </summary>
public class AckStopsEveryPageEndToEndTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Run the Native AOT executable (scripts/publish.sh) instead of larsbot.dll on the JIT.</summary>
    protected virtual bool Native => false;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private NgircdServer _irc = null!;
    private FakeProviders _providers = null!;
    private TempDatabase _db = null!;
    private BotProcess? _bot;
    private RawIrcClient? _person;

    public async Task InitializeAsync()
    {
        _irc = await NgircdServer.StartAsync();
        _providers = await FakeProviders.StartAsync();
        _db = new TempDatabase();
    }

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(_person, _bot, _providers, _irc, _db);
    }

    private Dictionary<string, string?> Settings()
    {
        var s = RunningBot.Settings(_irc.Port, _providers, _db);
        s.Remove("Intake:HttpUrl");
        s["Intake:TcpPort"] = "-1";
        s["Paging:Countdown"] = "00:00:01";
        s["Paging:TickEvery"] = "00:00:00.500";
        s["Paging:EscalateAfter"] = "00:01:00";
        s["Paging:IrcDownGrace"] = "00:01:00";
        return s;
    }

    private async Task StartAsync(Dictionary<string, string?> settings, string nick)
    {
        _bot = BotProcess.Start(settings, Ports.Free(), _db.Dir, Native);
        await _bot.WaitReadyAsync(Wait, leader: true);
        _person ??= await RawIrcClient.ConnectAsync(_irc.Port, nick);
        if (!_person.Lines.Any(l => l.Contains(" JOIN ") && l.Contains(RunningBot.Channel))) await _person.JoinAsync(RunningBot.Channel);
    }

    private async Task PostAsync(string host, string message, string level = "urgent")
    {
        var r = await _bot!.Http.PostAsync("/alerts", new FormUrlEncodedContent(new Dictionary<string, string>
            { ["host"] = host, ["level"] = level, ["message"] = message }));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, r.StatusCode);
    }

    private Task<string> SaysAsync(string text) =>
        _person!.WaitForLineAsync(l => l.Contains($"PRIVMSG {RunningBot.Channel} :{text}", StringComparison.Ordinal), Wait);

    private Task<T> ScalarAsync<T>(string sql) => _db.ScalarAsync<T>(sql);

    [Fact]
    public async Task Slow_provider_everyone_page_of_11_no_request_starts_after_the_ack_and_ringing_pushes_are_cancelled()
    {
        var roster = Path.Combine(_db.Dir, "roster.json");
        await File.WriteAllTextAsync(roster, TestRoster.LargeJson(11));
        var settings = Settings();
        settings["Roster:Path"] = roster;
        settings["Pushover:Priority"] = "2"; // emergency: the phone rings until acknowledged or cancelled
        _providers.ResponseDelay = TimeSpan.FromSeconds(1.5);
        await StartAsync(settings, "p11"); // the last to be paged: none of the first requests is to them

        await PostAsync("db1", "disk / at 99%"); // nobody on duty: after the countdown, everybody at once (22 pages)
        await Task.WhenAny(_providers.WaitForTwilioRequestAsync(1, Wait), _providers.WaitForPushoverRequestAsync(1, Wait));
        var typed = DateTimeOffset.UtcNow;
        await _person!.SendAsync($"PRIVMSG {RunningBot.Channel} :lars ack");
        await SaysAsync("ack: OK p11 acked 1 issues");
        // The bot says "ack: OK" after the ack committed: from here on nothing may be claimed, and only what was on the
        // wire (at most the send slots: 8 for Twilio, 2 for Pushover) may still reach a provider. The ack's own row time is when it
        // started, before it waited for the writer, so it bounds the commit from below only.
        var confirmed = DateTimeOffset.UtcNow;
        var ackAt = DateTimeOffset.FromUnixTimeMilliseconds(await ScalarAsync<long>("SELECT at FROM acks"));
        output.WriteLine($"ack typed at ack{(typed - ackAt).TotalMilliseconds:+0;-0} ms, confirmed at ack{(confirmed - ackAt).TotalMilliseconds:+0;-0} ms");

        // Settled: nothing waiting or on the wire, every cancel answered.
        await Eventually.TrueAsync(async () => await ScalarAsync<long>(
            "SELECT (SELECT COUNT(*) FROM pages WHERE state IN ('due','sending')) + (SELECT COUNT(*) FROM receipt_cancels WHERE state IN ('due','sending'))") == 0,
            Wait, "outbox did not settle");

        // Pages only: the follow-ups to the people woken ("p3 has it", issue 18) are meant to go after the ack.
        var requests = _providers.TwilioRequests.Where(r => !r["Body"].StartsWith("lars: ", StringComparison.Ordinal))
            .Concat(_providers.PushoverRequests).ToList();
        var afterAck = requests.Count(r => r.At > confirmed);
        var lateStarts = requests.Count(r => r.At > confirmed + TimeSpan.FromSeconds(0.5));
        var claimedAfterAck = await ScalarAsync<long>(
            $"SELECT COUNT(*) FROM page_attempts a JOIN pages p ON p.id = a.page_id WHERE p.stage <> 'followup' AND a.started_at > {confirmed.ToUnixTimeMilliseconds()}");
        var purged = await ScalarAsync<long>("SELECT COUNT(*) FROM pages WHERE state = 'purged'");
        var sent = await ScalarAsync<long>("SELECT COUNT(*) FROM pages WHERE stage <> 'followup' AND state = 'sent'");
        output.WriteLine($"22 pages decided; {requests.Count} requests reached the providers ({afterAck} arrived after the ack was confirmed, " +
                         $"{lateStarts} more than 0.5 s after); {claimedAfterAck} claimed after it; {purged} purged; " +
                         $"{_providers.CancelledReceipts.Count}/{_providers.PushoverReceipts.Count} emergency receipts cancelled");
        foreach (var r in requests.OrderBy(r => r.At)) output.WriteLine($"  {r.Path} at ack{(r.At - ackAt).TotalMilliseconds:+0;-0} ms");

        Assert.Equal(0, lateStarts);
        Assert.Equal(0, claimedAfterAck);
        Assert.True(afterAck <= OutboxSender.TwilioSlots + OutboxSender.SlotsPerChannel,
            $"{afterAck} requests arrived after the ack: more than the send slots (8 for Twilio, 2 for Pushover) were in flight");
        Assert.Equal(requests.Count, sent);
        Assert.Equal(22, sent + purged); // every page went before the ack, or never
        // Every emergency push that was delivered stops ringing.
        Assert.NotEmpty(_providers.PushoverReceipts);
        Assert.Equal(_providers.PushoverReceipts.Order(), _providers.CancelledReceipts.Order());
        // Each person those pages reached hears once, by SMS, that p11 has it.
        var followUps = _providers.TwilioRequests.Where(r => r["Body"].StartsWith("lars: p11 has it (acked ", StringComparison.Ordinal)).ToList();
        var reached = await ScalarAsync<long>("SELECT COUNT(DISTINCT person_id) FROM pages WHERE stage <> 'followup' AND state = 'sent'");
        Assert.Equal(reached, followUps.Count);
        Assert.Equal(followUps.Count, followUps.Select(r => r["To"]).Distinct().Count());
    }

    [Fact]
    public async Task Killed_with_pages_on_the_wire_after_an_ack_they_are_not_sent_again_after_the_restart()
    {
        _db.SeedDuty("brong");
        // The provider holds every request: the test decides when the bot dies, with both pages 'sending'.
        _providers.ScriptTwilio(FakeAnswer.Hanging());
        _providers.ScriptPushover(FakeAnswer.Hanging());
        var settings = Settings();
        await StartAsync(settings, "brong_");

        await PostAsync("db1", "replication stopped");
        await _providers.WaitForTwilioRequestAsync(1, Wait);
        await _providers.WaitForPushoverRequestAsync(1, Wait);
        await _person!.SendAsync($"PRIVMSG {RunningBot.Channel} :lars ack");
        await SaysAsync("ack: OK brong_ acked 1 issues");
        Assert.Equal(2, await ScalarAsync<long>("SELECT COUNT(*) FROM pages WHERE state = 'sending'"));
        Assert.Equal("acked", await ScalarAsync<string>("SELECT state FROM countdowns"));
        _bot!.Kill();
        await _bot.DisposeAsync();

        _bot = BotProcess.Start(settings, Ports.Free(), _db.Dir, Native);
        // On PostgreSQL the restarted bot leads once the killed one's lease has expired (5 s): well within Wait.
        await _bot.WaitReadyAsync(Wait, leader: true);
        await Eventually.TrueAsync(async () => await ScalarAsync<long>("SELECT COUNT(*) FROM pages WHERE state IN ('due','sending')") == 0,
            Wait, "interrupted pages were not settled after the restart");

        Assert.Equal(2, await ScalarAsync<long>("SELECT COUNT(*) FROM pages WHERE state = 'purged'"));
        Assert.Equal(2, await ScalarAsync<long>("SELECT COUNT(*) FROM page_attempts WHERE outcome = 'interrupted'"));
        Assert.Single(_providers.TwilioRequests);
        Assert.Single(_providers.PushoverRequests);
        Assert.Contains("its countdown was acked since, so it is not sent again", _bot.Output);
    }

    [Fact]
    public async Task An_unkeyed_check_still_firing_after_ack_mode_pages_again_once_and_not_after_it_stops()
    {
        _db.SeedDuty("brong");
        var settings = Settings();
        settings["Paging:AckModeFor"] = "00:00:03";
        await StartAsync(settings, "brong_");

        // A check sends the same host and text every 300 ms until told to stop (bounded: at most 60 s).
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var check = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await PostAsync("db1", "disk / at 99%");
                try { await Task.Delay(300, stop.Token); } catch (OperationCanceledException) { }
            }
        });

        await SaysAsync("URGENT db1 - disk / at 99%");
        await _person!.SendAsync($"PRIVMSG {RunningBot.Channel} :lars ack");
        await SaysAsync("ack: OK brong_ acked 1 issues");
        Assert.Empty(_providers.TwilioRequests);

        await SaysAsync("ack mode over: 1 alert still open: db1; paging again in 1 secs unless someone says 'lars ack'");
        var sms = await _providers.WaitForTwilioRequestAsync(1, Wait);
        Assert.Equal("db1: disk / at 99%", sms["Body"]);

        // The check stops (the fix held), then it is acked again: this ack mode ends quietly, nobody is paged again.
        await stop.CancelAsync();
        await check;
        await _person.SendAsync($"PRIVMSG {RunningBot.Channel} :lars ack");
        await SaysAsync("ack: OK brong_ acked 1 issues"); // the second one: the client reads on from the last match
        await SaysAsync("ack mode over: back to normal mode, urgent alerts page again");
        var said = _person.Lines.Where(l => l.Contains($"PRIVMSG {RunningBot.Channel} :")).ToList();
        Assert.Single(said, l => l.Contains(":ack mode over: 1 alert still open"));
        Assert.Single(said, l => l.Contains(":URGENT db1"));
        Assert.Single(_providers.TwilioRequests);
    }
}

/// <summary>The same, against the deployed native executable: what it must never do is checked on the binary that ships.</summary>
public sealed class AckStopsEveryPageEndToEndNativeTests(ITestOutputHelper output) : AckStopsEveryPageEndToEndTests(output)
{
    protected override bool Native => true;
}
