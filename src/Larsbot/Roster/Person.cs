namespace Larsbot.Roster;

/// <summary>Someone who can be paged and may command the bot.</summary>
public sealed record Person(
    string Id,
    string Name,
    IReadOnlyList<string> Nicks,
    string TimeZoneId,
    TimeZoneInfo TimeZone,
    string? Email,
    string? Phone,
    string? Pushover)
{
    /// <summary>Services (NickServ) accounts that prove it is this person, whatever nick they use.</summary>
    public IReadOnlyList<string> Accounts { get; init; } = [];

    /// <summary><c>nick!user@host</c> patterns that prove it is this person on servers without accounts.</summary>
    public IReadOnlyList<string> Hostmasks { get; init; } = [];

    /// <summary>Irc:ShowContacts=false: phone and e-mail are shown masked in the channel and topic.</summary>
    public bool MaskContacts { get; init; }

    public bool HasPushover => !string.IsNullOrEmpty(Pushover);

    /// <summary>Roster <c>"call": true</c>: the everyone-page also rings <see cref="Phone"/> (Twilio voice).</summary>
    public bool Call { get; init; }

    /// <summary>The phone as the channel may show it: "+614…001" when contacts are masked.</summary>
    public string? ShownPhone => Phone is null || !MaskContacts ? Phone : Phone.Length <= 7 ? "+…" : $"{Phone[..4]}…{Phone[^3..]}";

    /// <summary>The e-mail as the channel may show it: "b…@example.com" when contacts are masked.</summary>
    public string? ShownEmail => Email is null || !MaskContacts ? Email : $"{Email[0]}…{Email[Email.IndexOf('@')..]}";

    /// <summary>"brong (+61400000001)", the way the seed transcript names a page's target.</summary>
    public string Label => Phone is null ? Id : $"{Id} ({ShownPhone})";
}

/// <summary>
/// Who a speaker in IRC is: the person, how they were recognised, or why they were not. A refusal with a person
/// means "that nick is in the roster, but this is not provably them".
/// </summary>
public sealed record Identification(Person? Person, string How)
{
    public bool Verified => How is "account" or "hostmask" or "nick";
}

public sealed record LedgerSettings(string Currency, decimal StipendPerDay, decimal PageBonus, string TimeZoneId, TimeZoneInfo TimeZone);

/// <summary>The validated roster: who exists, how to reach them, and the ledger's rates.</summary>
public sealed class TeamRoster
{
    private readonly Dictionary<string, Person> _byNick;
    private readonly Dictionary<string, Person> _byId;
    private readonly Dictionary<string, Person> _byAccount;

    public TeamRoster(LedgerSettings ledger, IReadOnlyList<Person> people)
    {
        Ledger = ledger;
        People = people;
        _byId = people.ToDictionary(p => p.Id, StringComparer.OrdinalIgnoreCase);
        _byNick = people.SelectMany(p => p.Nicks.Select(n => (Nick: IrcCase.Fold(n), p)))
            .ToDictionary(x => x.Nick, x => x.p);
        _byAccount = people.SelectMany(p => p.Accounts.Select(a => (Account: IrcCase.Fold(a), p)))
            .ToDictionary(x => x.Account, x => x.p);
    }

    public LedgerSettings Ledger { get; }
    public IReadOnlyList<Person> People { get; }

    public Person? FindById(string? id) => id is not null && _byId.TryGetValue(id, out var p) ? p : null;

    /// <summary>Nicks compare the IRC way (rfc1459 case mapping: [ ] \ ~ fold to { } | ^).</summary>
    public Person? FindByNick(string nick) => _byNick.TryGetValue(IrcCase.Fold(nick), out var p) ? p : null;

    /// <summary>
    /// Who may act: a services account listed in the roster (the server vouches for it), else a roster hostmask
    /// matching <c>nick!user@host</c>, else the nick, but only for people who configured neither accounts nor
    /// hostmasks. Anyone can take a nick; a nick alone never stands in for someone who said how to recognise them.
    /// </summary>
    public Identification Identify(string nick, string user, string host, string? account)
    {
        if (account is not null && _byAccount.TryGetValue(IrcCase.Fold(account), out var byAccount))
            return new Identification(byAccount, "account");
        var mask = $"{nick}!{user}@{host}";
        foreach (var p in People)
            if (p.Hostmasks.Any(m => Wildcard.IsMatch(m, mask)))
                return new Identification(p, "hostmask");
        var byNick = FindByNick(nick);
        if (byNick is null) return new Identification(null, "unknown");
        if (byNick.Accounts.Count == 0 && byNick.Hostmasks.Count == 0) return new Identification(byNick, "nick");
        return new Identification(byNick, "unverified");
    }
}

/// <summary>IRC's rfc1459 case mapping, so "Brong", "brong" and "BRONG" are one nick, as the server sees them.</summary>
public static class IrcCase
{
    public static string Fold(string nick) =>
        string.Create(nick.Length, nick, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++)
            {
                var c = char.ToLowerInvariant(s[i]);
                span[i] = c switch { '[' => '{', ']' => '}', '\\' => '|', '~' => '^', _ => c };
            }
        });
}
