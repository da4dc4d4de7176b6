using Larsbot.Irc;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Roster;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.EndToEnd;

/// <summary>
/// Against real ngircd (no accounts, so hostmasks are what identifies people): who may act, and what alert text can
/// and cannot do to the channel.
/// </summary>
public sealed class SecurityEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private BotRig _rig = null!;
    private NgircdServer _irc = null!;
    private FakeProviders _providers = null!;
    private TempDatabase _db = null!;
    private RunningBot _bot = null!;
    private RawIrcClient _watcher = null!;

    public async Task InitializeAsync()
    {
        _rig = await BotRig.StartAsync();
        (_irc, _providers, _db, _) = _rig;
        var roster = Path.Combine(_db.Dir, "roster.json");
        await File.WriteAllTextAsync(roster, """{"ledger": {"currency": "AUD", "stipendPerDay": 40, "pageBonus": 20, "timeZone": "UTC"}, "people": [""" +
                                             RosterIdentityTests.People + "]}");
        var settings = RunningBot.Settings(_irc.Port, _providers, _db);
        settings["Roster:Path"] = roster;
        // These tests read each alert's own line: alerts posted back to back must not be grouped as a storm.
        settings["Paging:StormThreshold"] = "1000";
        // Long enough that an ack sent after the first countdown line is surely in time.
        settings["Paging:Countdown"] = "00:00:06";
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

    [Fact]
    public async Task Hostmask_identifies_robn_and_his_nick_from_another_user_is_refused()
    {
        // ngircd without ident shows the user as "~mallory"; robn's masks are *!*robn@... .
        await using var impostor = await RawIrcClient.ConnectAsync(_irc.Port, "robn", userName: "mallory");
        await impostor.JoinAsync(RunningBot.Channel);
        await impostor.SendAsync($"PRIVMSG {RunningBot.Channel} :lars duty take");
        await SaysAsync("sorry robn, that nick is robn's but I can't verify it's you");

        await using var rob = await RawIrcClient.ConnectAsync(_irc.Port, "rob_laptop", userName: "robn");
        await rob.JoinAsync(RunningBot.Channel);
        await rob.SendAsync($"PRIVMSG {RunningBot.Channel} :lars duty take");
        await SaysAsync("duty: Rob Norris (rob_laptop) is now on duty");
    }

    [Fact]
    public async Task A_private_ack_from_a_nick_only_persons_nick_outside_the_channel_is_refused_and_the_page_goes_out()
    {
        // neilj is identified by nick alone. A stranger takes that nick and, without joining, messages the bot.
        await using var stranger = await RawIrcClient.ConnectAsync(_irc.Port, "neilj", userName: "mallory");
        await _bot.PostAlertAsync("db1", "urgent", "disk full");
        await SaysAsync("LarsSMS: 'db1: disk full' in ");
        await stranger.SendAsync($"PRIVMSG {RunningBot.Nick} :ack");
        await SaysAsync("sorry neilj, I only take commands from people in the channel or logged in to their account");
        await SaysAsync("LarsSMS: nobody on duty, paging everybody now");
        await _providers.WaitForTwilioRequestAsync(3, Wait);
        Assert.DoesNotContain(_watcher.Lines, l => l.Contains(":ack: OK"));

        // In the channel, the same nick is obeyed (nick-only is weak, and check warns about it; it is not refused).
        await stranger.JoinAsync(RunningBot.Channel);
        await _bot.PostAlertAsync("db2", "urgent", "disk full");
        // Everybody was paged for db1 and nobody acked: db2 joins that page rather than paging everybody again.
        await SaysAsync("URGENT db2 - disk full (joins open page #1: everybody was paged, nobody has acked yet)");
        await stranger.SendAsync($"PRIVMSG {RunningBot.Nick} :ack");
        await SaysAsync("ack: OK neilj acked");
        // No page beyond the first three (the follow-ups telling brong and robn that neilj has it are not pages).
        Assert.Equal(3, _providers.TwilioRequests.Count(r => !r["Body"].StartsWith("lars: ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_huge_alert_is_stored_whole_and_announced_as_one_line_ending_in_an_ellipsis()
    {
        var message = string.Join(' ', Enumerable.Range(0, 3000).Select(i => $"w{i}"));
        var id = await _bot.PostAlertAsync("db1", "irc", message);
        var line = await SaysAsync("irc db1 - w0 w1");
        Assert.EndsWith("…", line);
        await _bot.PostAlertAsync("db1", "irc", "next one");
        var next = await SaysAsync("irc db1 - next one");
        Assert.Empty(_watcher.LinesBetween(line, next)); // no continuation lines
        var stored = await _bot.StoredMessageAsync(id);
        Assert.Equal(message, stored);
    }

    [Fact]
    public async Task Alert_text_cannot_inject_lines_commands_ctcp_or_formatting()
    {
        string[] nasty =
        [
            "a\r\nPRIVMSG #ops :INJECTED1",
            "b\nQUIT :INJECTED2",
            "c\rMODE #ops +o watcher",
            "d\0JOIN #INJECTED3",
            "\u0001ACTION INJECTED4\u0001",
            "\u0002\u000304,12red\u000f \u001funder\u001f \u0016rev \u001ditalic \u001estrike \u0011mono \u0004ff0000hex",
            "e\u2028f\u0085g\r\n\r\nPING :x",
        ];
        foreach (var n in nasty) await _bot.PostAlertAsync("evil", "irc", n);
        await _bot.PostAlertAsync("evil", "irc", "the end");
        await SaysAsync("irc evil - the end");
        var fromBot = _watcher.Lines.Where(l => l.StartsWith($":{RunningBot.Nick}!", StringComparison.Ordinal) || l.Contains("evil")).ToList();
        var announcements = fromBot.Where(l => l.Contains("PRIVMSG #ops :irc evil - ")).ToList();
        Assert.Equal(nasty.Length + 1, announcements.Count);
        foreach (var l in _watcher.Lines)
        {
            var m = IrcMessage.Parse(l)!;
            // Every line the watcher got from the bot is a PRIVMSG to the channel (or its TOPIC/JOIN/MODE on join).
            if (m.Nick == RunningBot.Nick)
                Assert.Contains(m.Command, new[] { "PRIVMSG", "TOPIC", "JOIN", "MODE" });
            Assert.DoesNotContain("INJECTED", m.Command + " " + string.Join(' ', m.Params.Take(m.Params.Count - 1)));
            Assert.False(l.AsSpan().IndexOfAny("\u0001\u0002\u0003\u0004\u000f\u0011\u0016\u001d\u001e\u001f") >= 0, "control code reached the channel: " + l);
        }
        Assert.Contains(announcements, l => l.EndsWith(":irc evil - red under rev italic strike mono hex", StringComparison.Ordinal));
        Assert.Contains(announcements, l => l.EndsWith(":irc evil - a\\r\\nPRIVMSG #ops :INJECTED1", StringComparison.Ordinal));
        Assert.DoesNotContain(_watcher.Lines.Select(l => IrcMessage.Parse(l)!), m =>
            (m.Command == "JOIN" && m.Param(0) == "#INJECTED3") || (m.Command == "MODE" && m.Params.Contains("watcher")));
    }
}
