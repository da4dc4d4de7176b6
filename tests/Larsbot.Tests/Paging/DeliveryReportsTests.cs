using Larsbot.Acks;
using Dapper;
using Larsbot.Notify;
using Larsbot.Paging;
using Larsbot.Roster;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Larsbot.Tests.Paging;

/// <summary>What the provider reports after accepting a page: recorded forward-only, and a failed first page moves on.</summary>
public class DeliveryReportsTests
{
    /// <summary>brong (on duty, "call": true) and robn, both with phone and Pushover.</summary>
    public const string CallRosterJson = """
        {"ledger": {"currency": "AUD", "stipendPerDay": 40.00, "pageBonus": 20.00, "timeZone": "UTC"},
         "people": [
          {"id": "brong", "name": "Bron Gondwana", "nicks": ["brong", "brong_"], "timeZone": "UTC", "phone": "+61400000001",
           "pushover": "uQiRzpo4DXghDmr9QzzfQu27cmVRsG", "call": true},
          {"id": "robn", "name": "Rob Norris", "nicks": ["robn"], "timeZone": "UTC", "phone": "+61400000002",
           "pushover": "azGDORePK8gMaC0QOYAMyEEuzJnyUi"}]}
        """;

    private static TeamRoster CallRoster() => TestRoster.FromJson(CallRosterJson);

    private static async Task<(EngineHarness H, DeliveryReports Reports, OutboxSender Sender, ScriptedNotifier Calls)> FirstPageSentAsync()
    {
        var h = new EngineHarness(roster: CallRoster());
        await h.TakeDutyAsync("brong", "brong");
        await h.AlertAsync("db1", "disk / at 99%");
        await h.AdvanceAsync(h.Options.Countdown);
        var calls = new ScriptedNotifier("call");
        var sender = h.Sender([new ScriptedNotifier("sms"), new ScriptedNotifier("push"), calls]);
        await sender.SendDueAsync(CancellationToken.None);
        await sender.DrainAsync();
        h.Channel.Take();
        return (h, new DeliveryReports(h.Db, h.Roster, h.Outbox, h.Clock, NullLogger<DeliveryReports>.Instance), sender, calls);
    }

    private static Task<PageRow> SmsAsync(EngineHarness h) =>
        h.Db.ReadAsync(c => c.QuerySingleAsync<PageRow>("SELECT * FROM pages WHERE channel = 'sms' AND stage = 'first'"));

    private static Task<string?> DeliveryStateAsync(EngineHarness h, long pageId) =>
        h.Db.ReadAsync(c => c.ExecuteScalarAsync<string?>("SELECT delivery_state FROM pages WHERE id = @pageId", new { pageId }));

    [Fact]
    public async Task A_failed_first_sms_is_said_and_the_call_goes_at_once_instead_of_waiting_for_everybody()
    {
        var (h, reports, sender, calls) = await FirstPageSentAsync();
        using var _ = h;
        var sms = await SmsAsync(h);
        Assert.True(await reports.RecordAsync(sms.ProviderId!, "failed", "30003", "callback"));
        Assert.Equal(["SMS to brong failed: 30003 unreachable; trying call now"], h.Channel.Take());
        await sender.SendDueAsync(CancellationToken.None);
        await sender.DrainAsync();
        var call = Assert.Single(calls.Calls);
        Assert.Equal("+61400000001", call.Destination);
        Assert.Equal("failed", await DeliveryStateAsync(h, sms.Id));
        Assert.Equal(CountdownState.Paged, (await h.CountdownsAsync()).Single().State); // the everyone-page is still on its clock
    }

    [Fact]
    public async Task Reports_out_of_order_or_repeated_never_move_a_page_back_nor_act_twice()
    {
        var (h, reports, _, _) = await FirstPageSentAsync();
        using var _h = h;
        var sms = await SmsAsync(h);
        await reports.RecordAsync(sms.ProviderId!, "delivered", null, "callback");
        await reports.RecordAsync(sms.ProviderId!, "sent", null, "callback");   // late
        await reports.RecordAsync(sms.ProviderId!, "queued", null, "callback"); // later still
        Assert.Equal("delivered", await DeliveryStateAsync(h, sms.Id));

        var push = await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM pages WHERE channel = 'call'"));
        Assert.Equal(0, push);
        var events = await h.Db.ReadAsync(c => c.QueryAsync<string>("SELECT state FROM delivery_events ORDER BY id"));
        Assert.Equal(["delivered", "sent", "queued"], events); // every report is kept as it came
        Assert.Empty(h.Channel.Take());
    }

    [Fact]
    public async Task A_repeated_failure_moves_on_once()
    {
        var (h, reports, _, _) = await FirstPageSentAsync();
        using var _h = h;
        var sms = await SmsAsync(h);
        await reports.RecordAsync(sms.ProviderId!, "undelivered", "30005", "callback");
        await reports.RecordAsync(sms.ProviderId!, "undelivered", "30005", "callback");
        Assert.Equal(["SMS to brong failed: 30005 unknown number; trying call now"], h.Channel.Take());
        Assert.Equal(1, await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM pages WHERE channel = 'call'")));
        Assert.False(await reports.RecordAsync("SM-unknown", "failed", "30003", "callback"));
    }

    [Fact]
    public async Task A_failure_reported_after_the_ack_is_recorded_and_nothing_more_goes_out()
    {
        var (h, reports, _, _) = await FirstPageSentAsync();
        using var _h = h;
        await h.AckAsync("robn");
        h.Channel.Take();
        var sms = await SmsAsync(h);
        Assert.True(await reports.RecordAsync(sms.ProviderId!, "failed", "30003", "callback"));
        Assert.Equal("failed", await DeliveryStateAsync(h, sms.Id));
        Assert.Empty(h.Channel.Take());
        Assert.Equal(0, await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM pages WHERE channel = 'call'")));
    }

    [Fact]
    public async Task A_report_that_overtakes_the_providers_answer_is_kept_and_applied_once_the_page_is_recorded()
    {
        var h = new EngineHarness(roster: CallRoster());
        using var _ = h;
        await h.TakeDutyAsync("brong", "brong");
        await h.AlertAsync("db1", "disk / at 99%");
        await h.AdvanceAsync(h.Options.Countdown);
        h.Channel.Take();
        var reports = new DeliveryReports(h.Db, h.Roster, h.Outbox, h.Clock, NullLogger<DeliveryReports>.Instance);
        // Twilio's callback for "sms-1" arrives before its 201 was recorded.
        Assert.False(await reports.RecordAsync("sms-1", "failed", "30003", "callback"));
        Assert.Empty(h.Channel.Take());

        var sender = h.Sender([new ScriptedNotifier("sms"), new ScriptedNotifier("push"), new ScriptedNotifier("call")], reports);
        await sender.SendDueAsync(CancellationToken.None);
        await sender.DrainAsync();
        Assert.Contains("SMS to brong failed: 30003 unreachable; trying call now", h.Channel.Take());
        var sms = await SmsAsync(h);
        Assert.Equal("failed", await DeliveryStateAsync(h, sms.Id));
        Assert.Equal(0, await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM delivery_events WHERE page_id IS NULL")));
    }

    [Fact]
    public async Task Without_a_callback_url_the_poller_asks_twilio_and_acts_on_what_it_says()
    {
        await using var providers = await FakeProviders.StartAsync();
        var h = new EngineHarness(roster: CallRoster());
        using var _ = h;
        await h.TakeDutyAsync("brong", "brong");
        await h.AlertAsync("db1", "disk / at 99%");
        await h.AdvanceAsync(h.Options.Countdown);
        var options = new TwilioOptions
        {
            AccountSid = FakeProviders.DefaultAccountSid, AuthToken = FakeProviders.DefaultAuthToken, From = FakeProviders.DefaultTwilioFrom,
            BaseUrl = providers.BaseUrl,
        };
        using var http = new HttpClient();
        var sender = h.Sender([new TwilioSmsNotifier(http, options, h.Clock), new ScriptedNotifier("push"), new ScriptedNotifier("call")]);
        await sender.SendDueAsync(CancellationToken.None);
        await sender.DrainAsync();
        h.Channel.Take();
        var reports = new DeliveryReports(h.Db, h.Roster, h.Outbox, h.Clock, NullLogger<DeliveryReports>.Instance);
        var poller = new DeliveryPoller(h.Db, reports, Microsoft.Extensions.Options.Options.Create(options), new TwilioStatusReader(http, options),
            h.Clock, NullLogger<DeliveryPoller>.Instance);
        Assert.True(poller.Enabled);

        var sid = Assert.Single(providers.Sids);
        Assert.Null(providers.StatusCallbackOf(sid)); // nothing to call back: it is asked instead
        Assert.Equal(1, await poller.PollOnceAsync(CancellationToken.None)); // queued
        Assert.Equal(0, await poller.PollOnceAsync(CancellationToken.None)); // unchanged: nothing recorded again
        await providers.ReportAsync(sid, "undelivered", "30003", callBack: false);
        Assert.Equal(1, await poller.PollOnceAsync(CancellationToken.None));
        Assert.Equal(["SMS to brong failed: 30003 unreachable; trying call now"], h.Channel.Take());
        Assert.Equal(0, await poller.PollOnceAsync(CancellationToken.None)); // final: no longer asked about
    }
}
