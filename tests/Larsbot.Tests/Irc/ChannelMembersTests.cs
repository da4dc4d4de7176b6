using Larsbot.Irc;

namespace Larsbot.Tests.Irc;

/// <summary>
/// The nick -> account map and channel membership, fed the lines a server sends: an account is only trusted while
/// the nick that earned it is still in the channel under that name.
/// </summary>
public sealed class ChannelMembersTests
{
    private const string Me = "Lars";

    private static ChannelMembers Joined(params string[] lines)
    {
        var members = new ChannelMembers("#ops");
        Feed(members, ":Lars!lars@bot JOIN #ops * :Larsbot", ":srv 353 Lars = #ops :@Lars kim +brong_ %robn");
        Feed(members, lines);
        return members;
    }

    private static void Feed(ChannelMembers members, params string[] lines)
    {
        foreach (var line in lines)
            members.Observe(IrcMessage.Parse(line)!, Me);
    }

    private static string? AccountOfLine(ChannelMembers members, string line, bool tags = false) =>
        members.AccountFor(IrcMessage.Parse(line)!, serverTagsAccounts: tags);

    [Fact]
    public void Names_make_members_without_their_status_prefixes()
    {
        var m = Joined();
        Assert.True(m.IsMember("kim"));
        Assert.True(m.IsMember("BRONG_"));
        Assert.True(m.IsMember("robn"));
        Assert.False(m.IsMember("mallory"));
        Assert.Null(m.AccountOf("kim"));
    }

    [Fact]
    public void Extended_join_whox_and_account_notify_set_the_account_of_members_only()
    {
        var m = Joined(":ann!a@h JOIN #ops ann :Ann", ":srv 354 Lars 7 k host kim kimacct :Kim", ":robn!r@h ACCOUNT robacct");
        Assert.Equal(("ann", "kimacct", "robacct"), (m.AccountOf("ann"), m.AccountOf("Kim"), m.AccountOf("robn")));
        Feed(m, ":srv 354 Lars 7 x host outsider outacct :X", ":ghost!g@h ACCOUNT ghostacct");
        Assert.Null(m.AccountOf("outsider"));
        Assert.Null(m.AccountOf("ghost"));
        Feed(m, ":robn!r@h ACCOUNT *", ":srv 354 Lars 7 k host kim 0 :Kim", ":joe!j@h JOIN #ops * :Joe");
        Assert.Null(m.AccountOf("robn"));
        Assert.Null(m.AccountOf("kim"));
        Assert.True(m.IsMember("joe"));
        Assert.Null(m.AccountOf("joe"));
    }

    [Theory]
    [InlineData(":kim!k@h PART #ops :bye")]
    [InlineData(":robn!r@h KICK #ops kim :out")]
    [InlineData(":kim!k@h QUIT :gone")]
    [InlineData(":kim!k@h NICK kim_away")]
    public void Leaving_or_renaming_forgets_the_nick_and_its_account(string departure)
    {
        var m = Joined(":srv 354 Lars 7 k host kim kimacct :Kim");
        Feed(m, departure);
        Assert.False(m.IsMember("kim"));
        // A stranger now using "kim" sends a line without an account tag: nothing of kim's is left for them.
        Assert.Null(AccountOfLine(m, ":kim!evil@elsewhere PRIVMSG Lars :ack"));
        Feed(m, ":kim!evil@elsewhere JOIN #ops * :Kim");
        Assert.Null(AccountOfLine(m, ":kim!evil@elsewhere PRIVMSG #ops :lars ack"));
    }

    [Fact]
    public void A_rename_keeps_membership_but_not_the_account_and_clears_whatever_sat_under_the_new_nick()
    {
        var m = Joined(":srv 354 Lars 7 k host kim kimacct :Kim");
        var ask = m.Observe(IrcMessage.Parse(":kim!k@h NICK kim_")!, Me);
        Assert.Equal("kim_", ask); // the client asks WHOX for the new nick's account
        Assert.True(m.IsMember("kim_"));
        Assert.Null(m.AccountOf("kim_"));
        // Someone outside the channel renaming onto a member's nick cannot happen, but must not keep a stale entry.
        Assert.Null(m.Observe(IrcMessage.Parse(":other!o@h NICK robn")!, Me));
        Assert.False(m.IsMember("robn"));
    }

    [Fact]
    public void The_bot_leaving_being_kicked_or_rejoining_starts_from_nobody()
    {
        foreach (var line in new[] { ":Lars!l@h PART #ops", ":op!o@h KICK #ops Lars :bye", ":Lars!l@h JOIN #ops * :Larsbot" })
        {
            var m = Joined(":srv 354 Lars 7 k host kim kimacct :Kim");
            Feed(m, line);
            Assert.Equal(0, m.Count);
            Assert.Null(AccountOfLine(m, ":kim!k@h PRIVMSG Lars :ack"));
        }
    }

    [Fact]
    public void Other_channels_and_server_prefixes_change_nothing()
    {
        var m = Joined(":srv 354 Lars 7 k host kim kimacct :Kim");
        Feed(m, ":kim!k@h PART #elsewhere", ":op!o@h KICK #elsewhere kim", ":x!x@h JOIN #elsewhere", ":srv 353 Lars = #elsewhere :y z");
        Assert.Equal("kimacct", m.AccountOf("kim"));
        Assert.False(m.IsMember("x"));
        Assert.False(m.IsMember("y"));
    }

    [Fact]
    public void The_account_tag_wins_and_without_it_a_tagging_server_means_not_logged_in()
    {
        var m = Joined(":srv 354 Lars 7 k host kim kimacct :Kim");
        Assert.Equal("other", AccountOfLine(m, "@account=other :kim!k@h PRIVMSG Lars :ack"));
        Assert.Equal("kimacct", AccountOfLine(m, ":kim!k@h PRIVMSG #ops :lars ack"));
        Assert.Null(AccountOfLine(m, ":kim!k@h PRIVMSG #ops :lars ack", tags: true));
        Assert.Null(AccountOfLine(m, "@account=* :kim!k@h PRIVMSG #ops :lars ack"));
    }

    [Fact]
    public void Prefixes_come_from_isupport_and_userhost_in_names_is_understood()
    {
        var m = new ChannelMembers("#ops");
        Feed(m, ":srv 005 Lars PREFIX=(Yov)!@+ NICKLEN=30 :are supported", ":Lars!l@h JOIN #ops",
            ":srv 353 Lars @ #ops :!@boss +kim!k@host.example");
        Assert.True(m.IsMember("boss"));
        Assert.True(m.IsMember("kim"));
        Assert.Equal(2, m.Count);
    }

    [Fact]
    public void Membership_is_capped()
    {
        var m = new ChannelMembers("#ops");
        for (var i = 0; i < ChannelMembers.Limit + 50; i++)
            m.Joined($"n{i}", null);
        Assert.Equal(ChannelMembers.Limit, m.Count);
    }
}
