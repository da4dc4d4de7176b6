using Larsbot.Roster;

namespace Larsbot.Irc;

/// <summary>
/// Who is in the ops channel right now, and the services account each member is logged in to as far as this
/// connection has been told since that member last joined or renamed (extended-join, account-notify, WHOX).
/// Anyone can take a nick the moment its owner leaves, so everything about a nick is forgotten when it leaves
/// (PART, KICK, QUIT) or renames (NICK): the stranger who takes it next inherits nothing. Reader loop only.
/// </summary>
internal sealed class ChannelMembers(string channel)
{
    /// <summary>Members kept at most (a huge channel must not grow memory without bound).</summary>
    public const int Limit = 10_000;

    // Folded nick -> account, or null when the member is not logged in (or we have not been told).
    private readonly Dictionary<string, string?> _members = new();
    // Status prefixes a NAMES reply may put before a nick; ISUPPORT PREFIX=(ov)@+ replaces the default.
    private string _prefixes = "~&@%+!";

    public int Count => _members.Count;

    /// <summary>
    /// Learns from one line from the server (<paramref name="me"/> is the bot's current nick). Returns a nick whose
    /// account should be asked for again (WHOX) because it just renamed, else null.
    /// </summary>
    public string? Observe(IrcMessage m, string me)
    {
        var fromMe = m.Nick is not null && IrcText.NameEquals(m.Nick, me);
        switch (m.Command)
        {
            case "005":
                foreach (var token in m.Params.Skip(1))
                    if (token.StartsWith("PREFIX=(", StringComparison.OrdinalIgnoreCase) && token.IndexOf(')') is > 0 and var close)
                        _prefixes = token[(close + 1)..];
                break;
            case "353" when IsOurs(m.Param(2)):
                // 353 me = #ops :@Lars brong_ +robn (nick!user@host with userhost-in-names)
                foreach (var name in (m.Trailing ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    Named(name.TrimStart(_prefixes.ToCharArray()).Split('!')[0]);
                break;
            case "JOIN" when IsOurs(m.Param(0)) && m.Nick is not null:
                if (fromMe) Clear();
                else Joined(m.Nick, m.Params.Count >= 3 ? m.Param(1) : null); // extended-join: JOIN #ops account :realname
                break;
            case "PART" when IsOurs(m.Param(0)) && m.Nick is not null:
                if (fromMe) Clear();
                else Left(m.Nick);
                break;
            case "KICK" when IsOurs(m.Param(0)) && m.Param(1) is { } kicked:
                if (IrcText.NameEquals(kicked, me)) Clear();
                else Left(kicked);
                break;
            case "QUIT" when m.Nick is not null:
                Left(m.Nick);
                break;
            case "NICK" when m.Nick is not null && m.Param(0) is { } newNick:
                return Renamed(m.Nick, newNick) && !fromMe ? newNick : null;
            case "ACCOUNT" when m.Nick is not null:
                AccountIs(m.Nick, m.Param(0));
                break;
            case "354" when m.Param(1) == "7" && m.Param(4) is { } nick:
                // WHO #ops %tuhnar,7 -> "354 me 7 user host nick account :realname"; account "0" = not logged in.
                AccountIs(nick, m.Param(5));
                break;
        }
        return null;
    }

    /// <summary>
    /// The services account a line was sent from: its account tag when it has one; when the server does not tag
    /// lines (<paramref name="serverTagsAccounts"/> false), what this connection was told about a current member.
    /// A line without a tag from a server that tags lines is from someone not logged in, whatever we heard before.
    /// </summary>
    public string? AccountFor(IrcMessage m, bool serverTagsAccounts)
    {
        if (m.Tags.TryGetValue("account", out var tagged))
            return Normalise(tagged);
        return serverTagsAccounts || m.Nick is null ? null : AccountOf(m.Nick);
    }

    private bool IsOurs(string? target) => IrcText.NameEquals(target, channel);

    /// <summary>The bot (re)joined, left, or lost its connection: start from nobody.</summary>
    public void Clear() => _members.Clear();

    /// <summary>A nick from a NAMES reply (353), with any status prefix ("@", "+", ...) already removed.</summary>
    public void Named(string nick)
    {
        if (nick.Length > 0 && (_members.Count < Limit || _members.ContainsKey(IrcCase.Fold(nick))))
            _members.TryAdd(IrcCase.Fold(nick), null);
    }

    /// <summary>Someone joined; <paramref name="account"/> from extended-join ("*": not logged in), else null.</summary>
    public void Joined(string nick, string? account)
    {
        if (_members.Count < Limit || _members.ContainsKey(IrcCase.Fold(nick)))
            _members[IrcCase.Fold(nick)] = Normalise(account);
    }

    /// <summary>PART, KICK or QUIT: the nick is free for anyone now.</summary>
    public void Left(string nick) => _members.Remove(IrcCase.Fold(nick));

    /// <summary>
    /// A member changed nick. The old nick is forgotten; the new one is a member whose account is not known until
    /// the server says so again (ask with WHOX).
    /// </summary>
    /// <returns>True when the nick belonged to a member.</returns>
    public bool Renamed(string oldNick, string newNick)
    {
        if (!_members.Remove(IrcCase.Fold(oldNick)))
        {
            // Not a member (or not one we know of): make sure nothing stale sits under the new nick either.
            _members.Remove(IrcCase.Fold(newNick));
            return false;
        }
        _members[IrcCase.Fold(newNick)] = null;
        return true;
    }

    /// <summary>account-notify (ACCOUNT) or a WHOX reply: only kept for members; "*" or "0" means logged out.</summary>
    public void AccountIs(string nick, string? account)
    {
        var key = IrcCase.Fold(nick);
        if (_members.ContainsKey(key))
            _members[key] = Normalise(account);
    }

    public bool IsMember(string nick) => _members.ContainsKey(IrcCase.Fold(nick));

    /// <summary>The member's account as last told for this nick since it joined or renamed; null otherwise.</summary>
    public string? AccountOf(string nick) => _members.TryGetValue(IrcCase.Fold(nick), out var account) ? account : null;

    private static string? Normalise(string? account) => string.IsNullOrEmpty(account) || account is "*" or "0" ? null : account;
}
