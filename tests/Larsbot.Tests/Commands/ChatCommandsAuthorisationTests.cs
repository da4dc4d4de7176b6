using Larsbot.Commands;
using Larsbot.Irc;
using Larsbot.Roster;
using Larsbot.Tests.Paging;
using Larsbot.Tests.Roster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Larsbot.Tests.Commands;

public sealed class ChatCommandsAuthorisationTests : IDisposable
{
    private readonly EngineHarness _h;
    private readonly ChatCommands _commands;

    public ChatCommandsAuthorisationTests()
    {
        var roster = RosterLoader.Parse("""{"ledger": {"currency": "AUD", "stipendPerDay": 40, "pageBonus": 20, "timeZone": "UTC"}, "people": [""" +
                                        RosterIdentityTests.People + "]}");
        _h = new EngineHarness(roster: roster);
        _commands = _h.Commands(time: _h.Clock);
    }

    public void Dispose() => _h.Dispose();

    private static ChannelMessage From(string nick, string user, string host, string? account = null) =>
        new(nick, user, host, "#ops", "", account);

    [Fact]
    public async Task A_verified_person_acts_and_an_impostor_gets_a_short_refusal()
    {
        await _commands.RunAsync(From("brong_", "b", "evil.net"), "duty take");
        Assert.Equal(["sorry brong_, that nick is brong's but I can't verify it's you (log in to your account or use your usual host)."], _h.Channel.Take());
        await _commands.RunAsync(From("bg", "b", "home.example.com", account: "brong"), "duty take");
        Assert.StartsWith("duty: Bron Gondwana (bg) is now on duty", Assert.Single(_h.Channel.Take()));
    }

    [Fact]
    public async Task Someone_not_in_the_channel_is_obeyed_only_when_logged_in_to_their_account()
    {
        // neilj is nick-only, robn has hostmasks: from outside the channel (a private message) neither is enough.
        await _commands.RunAsync(From("neilj", "n", "evil.net") with { Target = "Lars_Botlesen", InChannel = false }, "duty take");
        Assert.Equal(["sorry neilj, I only take commands from people in the channel or logged in to their account: join the channel and say it there."],
            _h.Channel.Take());
        await _commands.RunAsync(From("robn", "robn", "127.0.0.1") with { InChannel = false }, "duty take");
        Assert.Single(_h.Channel.Take(), l => l.StartsWith("sorry robn, I only take commands from people in the channel"));
        Assert.Empty(await _h.Db.ReadAsync(async c => (await Dapper.SqlMapper.QueryAsync<long>(c, "SELECT 1 FROM duty_changes")).ToList()));

        // The same people in the channel, and brong by account from anywhere, are obeyed.
        await _commands.RunAsync(From("neilj", "n", "evil.net") with { Target = "Lars_Botlesen" }, "duty take");
        Assert.StartsWith("duty: Neil Jenkins (neilj) is now on duty", Assert.Single(_h.Channel.Take()));
        await _commands.RunAsync(From("bg", "b", "anywhere.net", account: "brong") with { InChannel = false }, "duty take");
        Assert.StartsWith("duty: Bron Gondwana (bg) is now on duty", Assert.Single(_h.Channel.Take()));
    }

    [Fact]
    public async Task Refusals_are_answered_once_a_minute_per_nick_so_strangers_cannot_flood_the_channel()
    {
        for (var i = 0; i < 50; i++) await _commands.RunAsync(From("mallory", "m", "evil.net"), "ack");
        for (var i = 0; i < 50; i++) await _commands.RunAsync(From("mallory", "m", "evil.net"), "help");
        Assert.Equal(["sorry mallory, you're not in the roster, so I can't take commands from you. Ask the team to add your nick."], _h.Channel.Take());
        for (var i = 0; i < 20; i++) await _commands.RunAsync(From($"m{i}", "m", "evil.net"), "ack");
        Assert.Equal(4, _h.Channel.Take().Count); // at most five answers a minute overall, mallory had one
        _h.Clock.Advance(TimeSpan.FromMinutes(1));
        await _commands.RunAsync(From("mallory", "m", "evil.net"), "ack");
        Assert.Single(_h.Channel.Take());
        // Nothing was acked on their word.
        Assert.Empty(await _h.Db.ReadAsync(async c => (await Dapper.SqlMapper.QueryAsync<long>(c, "SELECT id FROM acks")).ToList()));
    }
}
