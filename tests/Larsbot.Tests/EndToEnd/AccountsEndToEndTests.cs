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
        var settings = RunningBot.Settings(irc.TlsPort, _providers, _db);
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
        await Teardown.AllAsync(_brong, _bot, _providers, _db);
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

/// <summary>
/// Against InspIRCd + Atheme: a person identified by account (kim) takes duty and leaves; a stranger with no account
/// takes the nick and, without joining, tells the bot "ack" in private during a countdown. The bot must not trust
/// what it once heard about that nick: the ack is refused and the page goes out.
/// </summary>
[Collection("inspircd")]
public sealed class AccountDepartureEndToEndTests(InspircdServer irc) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private FakeProviders _providers = null!;
    private TempDatabase _db = null!;
    private RawIrcClient _op = null!;
    private RunningBot? _bot;

    public async Task InitializeAsync()
    {
        _providers = await FakeProviders.StartAsync();
        _db = new TempDatabase();
        // The first to join is the channel operator: the op, so that it can KICK.
        _op = await RawIrcClient.ConnectAsync(irc.Port, "chanop", timeout: Wait);
        await _op.JoinAsync(RunningBot.Channel);
    }

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(_op, _bot, _providers, _db);
    }

    private Task<string> SaysAsync(string text) =>
        _op.WaitForLineAsync(l => l.Contains($"PRIVMSG {RunningBot.Channel} :{text}", StringComparison.Ordinal), Wait);

    private async Task StartBotAsync(string account)
    {
        var roster = Path.Combine(_db.Dir, "roster.json");
        await File.WriteAllTextAsync(roster, """
            {"ledger": {"currency": "AUD", "stipendPerDay": 40, "pageBonus": 20, "timeZone": "UTC"}, "people": [
             {"id": "kim", "name": "Kim Lee", "nicks": ["NICK"], "timeZone": "UTC", "phone": "+61400000009", "accounts": ["NICK"]}]}
            """.Replace("NICK", account));
        var settings = RunningBot.Settings(irc.Port, _providers, _db);
        settings["Roster:Path"] = roster;
        settings["Irc:FloodBurst"] = "8"; // InspIRCd's fakelag: a burst of 9, then 1 line/s
        settings["Irc:FloodInterval"] = "00:00:01";
        settings["Paging:Countdown"] = "00:00:06";
        _bot = await RunningBot.StartAsync(settings);
        await _bot.WaitHealthyAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>How kim leaves. After "part" and "kick" the bot shares no channel with kim, so it never sees the rest.</summary>
    [Theory]
    [InlineData("kim", "part, then quit")]
    [InlineData("kimn", "part, then change nick")]
    [InlineData("kimk", "kicked, then quit")]
    [InlineData("kimq", "quit")]
    public async Task A_stranger_using_the_nick_of_a_departed_account_holder_cannot_ack_in_private(string nick, string departure)
    {
        // kim registers (and so is logged in to) the account named like the nick, joins and takes duty.
        var kim = await irc.RegisterAsync(nick, "kim-pw-" + nick + "-42");
        await using (kim)
        {
            await StartBotAsync(nick);
            await kim.JoinAsync(RunningBot.Channel);
            await kim.SendAsync($"PRIVMSG {RunningBot.Channel} :lars duty take");
            await SaysAsync($"duty: Kim Lee ({nick}) is now on duty");

            // kim sees the PART or KICK before going on, so it surely happened while kim was still connected.
            if (departure.StartsWith("part")) await kim.SendAsync($"PART {RunningBot.Channel} :lunch");
            if (departure.StartsWith("kicked")) await _op.SendAsync($"KICK {RunningBot.Channel} {nick} :out");
            if (departure != "quit")
                await kim.WaitForLineAsync(l => RawIrcClient.Is(l, "PART") || RawIrcClient.Is(l, "KICK"), Wait);
            if (departure.EndsWith("change nick"))
            {
                await kim.SendAsync($"NICK {nick}_gone");
                await kim.WaitForLineAsync(l => RawIrcClient.Is(l, "NICK"), Wait);
            }
            else
            {
                await kim.SendAsync("QUIT :bye");
                await kim.WaitForLineAsync(l => RawIrcClient.Is(l, "ERROR"), Wait);
            }
        }

        // A stranger, logged in to nothing, takes the nick and never joins.
        await using var stranger = await RawIrcClient.ConnectAsync(irc.Port, nick, timeout: Wait);
        await _bot!.PostAlertAsync("db1", "urgent", "disk full");
        await SaysAsync("LarsSMS: 'db1: disk full' in ");
        await stranger.SendAsync($"PRIVMSG {RunningBot.Nick} :ack");
        await SaysAsync($"sorry {nick}, that nick is kim's but I can't verify it's you");
        await SaysAsync("LarsSMS: paging kim (+61400000009) now");
        Assert.Equal("+61400000009", (await _providers.WaitForTwilioRequestAsync(1, Wait))["To"]);
        Assert.DoesNotContain(_op.Lines, l => l.Contains(":ack: OK"));
    }
}
