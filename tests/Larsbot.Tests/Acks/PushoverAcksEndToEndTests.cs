using System.Net;
using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Acks;

/// <summary>Pushover emergency priority: the page carries retry/expire and a secret callback; acknowledging it acks.</summary>
public sealed class PushoverAcksEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private const string Secret = "cb-secret-0123456789";
    private NgircdServer _irc = null!;
    private FakeProviders _providers = null!;
    private TempDatabase _db = null!;
    private RunningBot _bot = null!;
    private RawIrcClient _watcher = null!;

    private async Task StartAsync(string pollEvery)
    {
        _irc = await NgircdServer.StartAsync();
        _providers = await FakeProviders.StartAsync();
        _db = new TempDatabase();
        var settings = RunningBot.Settings(_irc.Port, _providers, _db);
        settings["Pushover:Priority"] = "2";
        settings["Pushover:EmergencyRetry"] = "00:00:10"; // under Pushover's minimum: sent as 30
        settings["Pushover:CallbackBaseUrl"] = "https://larsbot.example.com/";
        settings["Pushover:CallbackSecret"] = Secret;
        settings["Pushover:ReceiptPollEvery"] = pollEvery;
        settings["Paging:Countdown"] = "00:00:00.500";
        _bot = await RunningBot.StartAsync(settings);
        await _bot.WaitHealthyAsync();
        _watcher = await RawIrcClient.ConnectAsync(_irc.Port, "watcher");
        await _watcher.JoinAsync(RunningBot.Channel);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(_watcher, _bot, _providers, _irc, _db);
    }

    private Task<string> SaysAsync(string text) =>
        _watcher.WaitForLineAsync(l => l.Contains($"PRIVMSG {RunningBot.Channel} :{text}", StringComparison.Ordinal), Wait);

    [Fact]
    public async Task Emergency_page_carries_retry_expire_and_callback_and_a_receipt_poll_acks()
    {
        await StartAsync("00:00:00.100");
        await _bot.PostAlertAsync("db1", "urgent", "down");
        var push = await _providers.WaitForPushoverRequestAsync(1, Wait);
        Assert.Equal("2", push["priority"]);
        Assert.Equal("30", push["retry"]);
        Assert.Equal("3600", push["expire"]);
        Assert.Equal($"https://larsbot.example.com/pushover/callback/{Secret}", push["callback"]);

        await _providers.WaitForPushoverRequestAsync(2, Wait);
        var receipt = _providers.PushoverReceipts[0];
        _providers.AcknowledgeReceipt(receipt, push["user"]);
        var line = await _watcher.WaitForLineAsync(l => l.Contains("(pushover) acked 1 issues", StringComparison.Ordinal), Wait);
        Assert.Matches(@"ack: OK (brong|robn) \(pushover\) acked 1 issues", line);
        // Its fate is visible: "push brong acked".
        Assert.Equal("acked", await _db.ScalarAsync<string>("SELECT delivery_state FROM pages WHERE receipt = @receipt", new { receipt }));
    }

    [Fact]
    public async Task The_callback_with_the_secret_acks_and_a_wrong_secret_is_not_found()
    {
        await StartAsync("01:00:00"); // no polling in this test: only the callback can ack
        await _bot.PostAlertAsync("db2", "urgent", "down");
        await _providers.WaitForPushoverRequestAsync(2, Wait);
        var receipt = _providers.PushoverReceipts[0];
        // The receipt is stored once the send is recorded; wait for that rather than sleeping.
        await WaitForStoredReceiptAsync(receipt);
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
            { ["receipt"] = receipt, ["acknowledged"] = "1", ["acknowledged_at"] = "1700000000", ["acknowledged_by"] = "u", ["id"] = "1", ["priority"] = "2" });
        Assert.Equal(HttpStatusCode.NotFound, (await _bot.Http.PostAsync("/pushover/callback/wrong", form)).StatusCode);
        var r = await _bot.Http.PostAsync($"/pushover/callback/{Secret}", form);
        Assert.Equal("acked", await r.Content.ReadAsStringAsync());
        Assert.Matches(@"ack: OK (brong|robn) \(pushover\) acked 1 issues", await _watcher.WaitForLineAsync(l => l.Contains("(pushover) acked 1 issues", StringComparison.Ordinal), Wait));
        // A second callback for a page no longer open does not renew ack mode.
        Assert.Equal("nothing open for that receipt", await (await _bot.Http.PostAsync($"/pushover/callback/{Secret}", form)).Content.ReadAsStringAsync());
    }

    private async Task WaitForStoredReceiptAsync(string receipt)
    {
        await Eventually.TrueAsync(async () =>
            await _db.ScalarAsync<long>("SELECT COUNT(*) FROM pages WHERE provider_id = @receipt AND state = 'sent'", new { receipt }) > 0,
            Wait, "receipt never stored");
    }
}
