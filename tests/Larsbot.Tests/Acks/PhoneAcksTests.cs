using System.Net;
using Dapper;
using Larsbot.Acks;
using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Acks;

public class TwilioSignatureTests
{
    [Fact]
    public void Matches_Twilios_worked_example()
    {
        var sig = PhoneAcks.TwilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
        [
            new("CallSid", "CA1234567890ABCDE"), new("Caller", "+14158675309"), new("Digits", "1234"),
            new("From", "+14158675309"), new("To", "+18005551212"),
        ]);
        Assert.Equal("RSOYDt4T1cUTdK1PDd93/VVr8B8=", sig);
    }

    [Fact]
    public void A_repeated_key_signs_each_value_in_the_order_it_came()
    {
        const string url = "https://larsbot.example.net/twilio/sms";
        var form = PhoneAcks.FormPairs("To=%2B1800&MediaUrl=b&From=%2B1415&MediaUrl=a");
        Assert.Equal([new("To", "+1800"), new("MediaUrl", "b"), new("MediaUrl", "a"), new("From", "+1415")], form);
        var expected = Convert.ToBase64String(System.Security.Cryptography.HMACSHA1.HashData("12345"u8.ToArray(),
            System.Text.Encoding.UTF8.GetBytes(url + "From+1415MediaUrlbMediaUrlaTo+1800")));
        Assert.Equal(expected, PhoneAcks.TwilioSignature("12345", url, form));
        // Joined with a comma, as a NameValueCollection would, is another message.
        Assert.NotEqual(expected, PhoneAcks.TwilioSignature("12345", url, [new("To", "+1800"), new("MediaUrl", "b,a"), new("From", "+1415")]));
    }
}

/// <summary>Acks from the phone: an SMS reply through Twilio's webhook, and POST /ack with a personal token.</summary>
public sealed class PhoneAcksEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private const string RobnToken = "robn-ack-token-0123456789";
    private BotRig _rig = null!;
    private Dictionary<string, string?> _settings = null!;
    private NgircdServer _irc = null!;
    private FakeProviders _providers = null!;
    private TempDatabase _db = null!;
    private RunningBot _bot = null!;
    private RawIrcClient _watcher = null!;

    public async Task InitializeAsync()
    {
        _rig = await BotRig.StartAsync();
        (_irc, _providers, _db, _) = _rig;
        var settings = _settings = RunningBot.Settings(_irc.Port, _providers, _db);
        settings["Acks:Tokens:0:Token"] = RobnToken;
        settings["Acks:Tokens:0:Person"] = "robn";
        settings["Paging:Countdown"] = "00:00:30";
        _bot = await RunningBot.StartAsync(settings);
        await _bot.WaitHealthyAsync();
        _watcher = await RawIrcClient.ConnectAsync(_irc.Port, "watcher");
        await _watcher.JoinAsync(RunningBot.Channel);
    }

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(_watcher, _bot, _rig);
    }

    private Task<string> SaysAsync(string text) =>
        _watcher.WaitForLineAsync(l => l.Contains($"PRIVMSG {RunningBot.Channel} :{text}", StringComparison.Ordinal), Wait);

    private async Task<List<(string Nick, string PersonId, string Source)>> AcksAsync()
    {
        await using var c = _db.Connect();
        return (await c.QueryAsync<(string, string, string)>("SELECT nick, person_id, source FROM acks ORDER BY id")).ToList();
    }

    private async Task<long> CountAsync(string table)
    {
        return await _db.ScalarAsync<long>($"SELECT COUNT(*) FROM {table}");
    }

    private Task<HttpResponseMessage> SmsAsync(IEnumerable<KeyValuePair<string, string>> form, string? signature = null)
    {
        var url = _bot.HttpBase + "/twilio/sms";
        var req = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
        req.Headers.Add("X-Twilio-Signature", signature ?? PhoneAcks.TwilioSignature(FakeProviders.DefaultAuthToken, url, form));
        return _bot.Http.SendAsync(req);
    }

    [Fact]
    public async Task Replying_ack_to_the_page_sms_acks_and_is_announced_and_recorded()
    {
        await _bot.PostAlertAsync("db1", "urgent", "down");
        await SaysAsync("URGENT db1 - down");
        var form = new Dictionary<string, string>
        {
            ["MessageSid"] = "SM0123", ["AccountSid"] = FakeProviders.DefaultAccountSid, ["From"] = "+61400000001",
            ["To"] = FakeProviders.DefaultTwilioFrom, ["Body"] = " Ack ",
        };
        Assert.Equal(HttpStatusCode.Forbidden, (await SmsAsync(form, "bm90IGl0")).StatusCode);
        Assert.Empty(await AcksAsync());

        var r = await SmsAsync(form);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains("<Message>Larsbot: acked. Ack mode is on.</Message>", await r.Content.ReadAsStringAsync());
        await SaysAsync("ack: OK brong (sms) acked 1 issues");
        Assert.Equal([("brong (sms)", "brong", "sms")], await AcksAsync());

        // A number not in the roster gets an empty answer and acks nothing.
        form["From"] = "+15550000000";
        form["MessageSid"] = "SM0124";
        r = await SmsAsync(form);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.DoesNotContain("<Message>", await r.Content.ReadAsStringAsync());
        Assert.Single(await AcksAsync());
    }

    [Fact]
    public async Task Post_ack_with_a_personal_token_acks_as_that_person()
    {
        await _bot.PostAlertAsync("db2", "urgent", "down");
        await SaysAsync("URGENT db2 - down");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _bot.Http.PostAsync("/ack", null)).StatusCode);
        var bad = new HttpRequestMessage(HttpMethod.Post, "/ack");
        bad.Headers.Authorization = new("Bearer", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _bot.Http.SendAsync(bad)).StatusCode);

        var r = await _bot.Http.PostAsync("/ack", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = RobnToken }));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await SaysAsync("ack: OK robn (http) acked 1 issues");
        Assert.Equal([("robn (http)", "robn", "http")], await AcksAsync());
    }

    [Fact]
    public async Task A_replayed_sms_ack_acks_nothing_and_renews_nothing_even_after_a_restart()
    {
        await _bot.PostAlertAsync("db3", "urgent", "down");
        await SaysAsync("URGENT db3 - down");
        var form = new Dictionary<string, string>
        {
            ["MessageSid"] = "SM0456", ["AccountSid"] = FakeProviders.DefaultAccountSid, ["From"] = "+61400000001",
            ["To"] = FakeProviders.DefaultTwilioFrom, ["Body"] = "ack",
        };
        var signature = PhoneAcks.TwilioSignature(FakeProviders.DefaultAuthToken, _bot.HttpBase + "/twilio/sms", form);
        Assert.Contains("acked", await (await SmsAsync(form, signature)).Content.ReadAsStringAsync());
        await SaysAsync("ack: OK brong (sms) acked 1 issues");

        // The same correctly signed request again, as someone who saw it on the wire would send it: nothing happens.
        var replay = await SmsAsync(form, signature);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.DoesNotContain("<Message>", await replay.Content.ReadAsStringAsync());
        Assert.Equal(1, await CountAsync("acks"));
        Assert.Equal(1, await CountAsync("ack_modes"));

        // Remembered in the database, not in memory: a restarted bot (same port, so the same signed URL) refuses it too.
        var port = new Uri(_bot.HttpBase).Port;
        await _bot.DisposeAsync();
        _settings["Intake:HttpUrl"] = $"http://127.0.0.1:{port}";
        _bot = await RunningBot.StartAsync(_settings);
        await _bot.WaitHealthyAsync();
        Assert.DoesNotContain("<Message>", await (await SmsAsync(form, signature)).Content.ReadAsStringAsync());
        Assert.Equal(1, await CountAsync("acks"));
        Assert.Equal(1, await CountAsync("ack_modes"));

        // A new message (a new MessageSid) from the same phone still acks.
        form["MessageSid"] = "SM0457";
        Assert.Contains("acked", await (await SmsAsync(form)).Content.ReadAsStringAsync());
        Assert.Equal(2, await CountAsync("acks"));
    }

    [Fact]
    public async Task Repeated_form_keys_are_checked_value_by_value_as_Twilio_signs_them()
    {
        List<KeyValuePair<string, string>> form =
        [
            new("MessageSid", "SM0789"), new("From", "+61400000001"), new("To", FakeProviders.DefaultTwilioFrom),
            new("MediaUrl", "https://api.twilio.com/m/2"), new("Body", "ack"), new("MediaUrl", "https://api.twilio.com/m/1"),
        ];
        var url = _bot.HttpBase + "/twilio/sms";
        // Signed with the repeated key's values joined by a comma (another message): refused.
        var joined = form.Where(kv => kv.Key != "MediaUrl").Append(new("MediaUrl", "https://api.twilio.com/m/2,https://api.twilio.com/m/1"));
        Assert.Equal(HttpStatusCode.Forbidden, (await SmsAsync(form, PhoneAcks.TwilioSignature(FakeProviders.DefaultAuthToken, url, joined))).StatusCode);
        Assert.Equal(0, await CountAsync("acks"));

        // Signed as Twilio signs it: each value, in the order sent.
        var r = await SmsAsync(form);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains("acked", await r.Content.ReadAsStringAsync());

        // A signed request naming two senders is not one of Twilio's messages: it acks as nobody.
        List<KeyValuePair<string, string>> twoFroms = [new("MessageSid", "SM0790"), new("From", "+61400000001"), new("From", "+61400000002"), new("Body", "ack")];
        Assert.Equal(HttpStatusCode.BadRequest, (await SmsAsync(twoFroms)).StatusCode);
        Assert.Equal(1, await CountAsync("acks"));
    }
}
