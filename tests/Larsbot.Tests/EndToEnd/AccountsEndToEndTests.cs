using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.EndToEnd;

/// <summary>
/// Against InspIRCd + Atheme: the bot logs in with SASL PLAIN over TLS, and people are recognised by their services
/// account (account-tag, extended-join, WHOX), not by the nick they happen to use.
/// </summary>
[Collection("inspircd")]
public sealed class AccountsEndToEndTests(InspircdServer irc) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private const string BotPassword = "bot-sasl-pw-7f3a9c";
    private FakeProviders _providers = null!;
    private TempDatabase _db = null!;
    private RunningBot _bot = null!;
    private CollectingLoggerProvider _logs = null!;
    private RawIrcClient _brong = null!;

    public async Task InitializeAsync()
    {
        _providers = await FakeProviders.StartAsync();
        _db = new TempDatabase();
        // Accounts: the bot's (for SASL) and brong's ("bronga" is his account; he chats as any nick).
        var registerBot = irc.RegisterAsync("larsbotacct", BotPassword);
        var registerBrong = irc.RegisterAsync("bronga", "brong-pw-1234");
        await (await registerBot).DisposeAsync();
        _brong = await registerBrong;

        var roster = Path.Combine(_db.Dir, "roster.json");
        await File.WriteAllTextAsync(roster, """
            {"ledger": {"currency": "AUD", "stipendPerDay": 40, "pageBonus": 20, "timeZone": "UTC"}, "people": [
             {"id": "brong", "name": "Bron Gondwana", "nicks": ["brong", "brong_"], "timeZone": "UTC", "phone": "+61400000001", "accounts": ["bronga"]}]}
            """);
        var settings = RunningBot.Settings(irc.TlsPort, _providers, _db.Path);
        settings["Roster:Path"] = roster;
        settings["Irc:Tls"] = "true";
        settings["Irc:TlsAcceptAnyCertificate"] = "true";
        settings["Irc:SaslAccount"] = "larsbotacct";
        settings["Irc:SaslPassword"] = BotPassword;
        settings["Irc:FloodBurst"] = "8"; // InspIRCd's fakelag: a burst of 9, then 1 line/s
        settings["Irc:FloodInterval"] = "00:00:01";
        settings["Logging:LogLevel:Default"] = "Trace";
        _logs = new CollectingLoggerProvider();
        _bot = await RunningBot.StartAsync(settings, _logs);
        await _bot.WaitHealthyAsync(TimeSpan.FromSeconds(20));
    }

    public async Task DisposeAsync()
    {
        await _brong.DisposeAsync();
        await _bot.DisposeAsync();
        await _providers.DisposeAsync();
        _db.Dispose();
    }

    [Fact]
    public async Task Bot_logs_in_with_SASL_over_TLS_people_act_by_account_and_a_borrowed_nick_is_refused()
    {
        // SASL: the server says the bot is logged in (WHOIS 330), and the password is nowhere in the trace log.
        await _brong.SendAsync($"WHOIS {RunningBot.Nick}");
        await _brong.WaitForLineAsync(l => l.Contains(" 330 ") && l.Contains("larsbotacct"), Wait);
        Assert.Contains(_logs.Lines, l => l.Contains("Logged in to services as larsbotacct"));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains(BotPassword) || l.Contains(Convert.ToBase64String(
            System.Text.Encoding.UTF8.GetBytes($"larsbotacct\0larsbotacct\0{BotPassword}"))));

        // brong chats as "bronga" (not one of his roster nicks): the account-tag says who he is.
        await _brong.JoinAsync(RunningBot.Channel);
        await _brong.SendAsync($"PRIVMSG {RunningBot.Channel} :lars duty take");
        await _brong.WaitForLineAsync(l => l.Contains("duty: Bron Gondwana (bronga) is now on duty"), Wait);

        // Someone else takes his roster nick: not logged in as bronga, so refused.
        await using var impostor = await RawIrcClient.ConnectAsync(irc.Port, "brong_", timeout: TimeSpan.FromSeconds(10));
        await impostor.JoinAsync(RunningBot.Channel);
        await impostor.SendAsync($"PRIVMSG {RunningBot.Channel} :lars ack");
        await impostor.WaitForLineAsync(l => l.Contains("sorry brong_, that nick is brong's but I can't verify it's you"), Wait);
    }
}
