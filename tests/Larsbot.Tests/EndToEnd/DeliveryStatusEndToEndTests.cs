using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Paging;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.EndToEnd;

/// <summary>
/// The real bot process, ngircd and the Twilio stand-in posting status callbacks as Twilio does: page → callback
/// 'failed' → call placed at once → ack → one follow-up to everyone paged → nothing more.
/// </summary>
public class DeliveryStatusEndToEndTests : IAsyncLifetime
{
    /// <summary>Run the Native AOT executable (scripts/publish.sh) instead of larsbot.dll on the JIT.</summary>
    protected virtual bool Native => false;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private NgircdServer _irc = null!;
    private FakeProviders _providers = null!;
    private TempDatabase _db = null!;
    private BotProcess? _bot;
    private RawIrcClient? _robn;

    public async Task InitializeAsync()
    {
        _irc = await NgircdServer.StartAsync();
        _providers = await FakeProviders.StartAsync();
        _db = new TempDatabase();
    }

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(_robn, _bot, _providers, _irc, _db);
    }

    private Task<string> SaysAsync(string text) =>
        _robn!.WaitForLineAsync(l => l.Contains($"PRIVMSG {RunningBot.Channel} :{text}", StringComparison.Ordinal), Wait);

    private Task<long> CountAsync(string sql) => _db.ScalarAsync<long>(sql);

    [Fact]
    public async Task Page_then_failed_callback_then_call_then_ack_then_one_follow_up_each_then_nothing_more()
    {
        var roster = Path.Combine(_db.Dir, "roster.json");
        await File.WriteAllTextAsync(roster, DeliveryReportsTests.CallRosterJson);
        _db.SeedDuty("brong");
        var port = Ports.Free();
        var callback = $"http://127.0.0.1:{port}/twilio/status";
        var settings = RunningBot.Settings(_irc.Port, _providers, _db);
        settings.Remove("Intake:HttpUrl");
        settings["Intake:TcpPort"] = "-1";
        settings["Roster:Path"] = roster;
        settings["Twilio:StatusCallbackUrl"] = callback;
        settings["Paging:Countdown"] = "00:00:01";
        settings["Paging:TickEvery"] = "00:00:00.500";
        settings["Paging:EscalateAfter"] = "00:05:00";
        _bot = BotProcess.Start(settings, port, _db.Dir, Native);
        await _bot.WaitReadyAsync(Wait, leader: true);
        _robn = await RawIrcClient.ConnectAsync(_irc.Port, "robn");
        await _robn.JoinAsync(RunningBot.Channel);

        var r = await _bot.Http.PostAsync("/alerts", new FormUrlEncodedContent(new Dictionary<string, string>
            { ["host"] = "db1", ["level"] = "urgent", ["message"] = "disk / at 99%" }));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, r.StatusCode);
        var sms = await _providers.WaitForTwilioRequestAsync(1, Wait);
        Assert.Equal(callback, sms["StatusCallback"]);
        await _providers.WaitForPushoverRequestAsync(1, Wait);
        // The stand-in records the request before it files the message it answers with: wait for that too.
        await Eventually.TrueAsync(() => _providers.Sids.Count > 0, Wait, "no message filed for the SMS");
        var sid = _providers.Sids[0];

        // A forged callback (wrong signature) is refused and changes nothing.
        var forged = new HttpRequestMessage(HttpMethod.Post, callback) { Content = new FormUrlEncodedContent(new Dictionary<string, string>
            { ["MessageSid"] = sid, ["MessageStatus"] = "delivered" }) };
        forged.Headers.Add("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl");
        Assert.Equal(403, (int)(await _bot.Http.SendAsync(forged)).StatusCode);

        // Twilio reports the SMS sent, then failed (carrier: unreachable), then the 'sent' again, late.
        Assert.Equal(200, await _providers.ReportAsync(sid, "sent"));
        Assert.Equal(200, await _providers.ReportAsync(sid, "failed", "30003"));
        await SaysAsync("SMS to brong failed: 30003 unreachable; trying call now");
        Assert.Equal(200, await _providers.ReportAsync(sid, "sent"));
        await Eventually.TrueAsync(() => _providers.CallRequests.Count == 1, Wait);
        Assert.Equal("+61400000001", _providers.CallRequests[0]["To"]);
        Assert.Equal(callback, _providers.CallRequests[0]["StatusCallback"]);
        // The call is not answered either: said, and nothing is left to try before the everyone-page.
        var callSid = _providers.Sids.Single(s => s.StartsWith("CA", StringComparison.Ordinal));
        Assert.Equal(200, await _providers.ReportAsync(callSid, "no-answer"));
        await SaysAsync("call to brong failed: no-answer; no other way to reach them before everybody is paged");

        await _robn.SendAsync($"PRIVMSG {RunningBot.Channel} :lars status");
        var status = await SaysAsync("status: #1 pages: ");
        Assert.Contains("sms brong failed", status);
        // The status page shows the same, for people not in IRC.
        using (var json = System.Text.Json.JsonDocument.Parse(await _bot.Http.GetStringAsync("/status.json")))
        {
            var pages = json.RootElement.GetProperty("open")[0].GetProperty("pages").EnumerateArray()
                .Select(p => $"{p.GetProperty("channel").GetString()} {p.GetProperty("person").GetString()} {p.GetProperty("state").GetString()}").ToList();
            Assert.Equal(["sms brong failed", "push brong sent", "call brong no-answer"], pages);
        }
        Assert.Contains("sms brong failed", await _bot.Http.GetStringAsync("/"));

        await _robn.SendAsync($"PRIVMSG {RunningBot.Channel} :lars ack");
        await SaysAsync("ack: OK robn acked 1 issues");
        // brong was reached by push (the SMS failed): one follow-up, by push, not ringing.
        var followUp = await _providers.WaitForPushoverRequestAsync(2, Wait);
        Assert.StartsWith("lars: robn has it (acked ", followUp["message"]);
        Assert.Equal("0", followUp["priority"]);
        await Eventually.TrueAsync(async () => await CountAsync("SELECT COUNT(*) FROM pages WHERE state IN ('due','sending')") == 0, Wait);

        // Nothing more: one SMS, one call, the page's push and its follow-up; the everyone-page never comes.
        Assert.Single(_providers.TwilioRequests);
        Assert.Single(_providers.CallRequests);
        Assert.Equal(2, _providers.PushoverRequests.Count);
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM countdowns WHERE state = 'acked'"));
        var metrics = await _bot.Http.GetStringAsync("/metrics");
        Assert.Contains("larsbot_deliveries_total{channel=\"sms\",state=\"failed\"} 1", metrics);
        Assert.Contains("larsbot_deliveries_total{channel=\"sms\",state=\"sent\"} 1", metrics);
    }
}

/// <summary>The same page, failed callback, call and ack, on the deployed native executable.</summary>
public sealed class DeliveryStatusEndToEndNativeTests : DeliveryStatusEndToEndTests
{
    protected override bool Native => true;
}
