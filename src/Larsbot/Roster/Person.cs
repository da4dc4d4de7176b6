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
    public bool HasPushover => !string.IsNullOrEmpty(Pushover);

    /// <summary>"brong (+61400000001)", the way the seed transcript names a page's target.</summary>
    public string Label => Phone is null ? Id : $"{Id} ({Phone})";
}

public sealed record LedgerSettings(string Currency, decimal StipendPerDay, decimal PageBonus, string TimeZoneId, TimeZoneInfo TimeZone);

/// <summary>The validated roster: who exists, how to reach them, and the ledger's rates.</summary>
public sealed class TeamRoster
{
    private readonly Dictionary<string, Person> _byNick;
    private readonly Dictionary<string, Person> _byId;

    public TeamRoster(LedgerSettings ledger, IReadOnlyList<Person> people)
    {
        Ledger = ledger;
        People = people;
        _byId = people.ToDictionary(p => p.Id, StringComparer.OrdinalIgnoreCase);
        _byNick = people.SelectMany(p => p.Nicks.Select(n => (Nick: IrcCase.Fold(n), p)))
            .ToDictionary(x => x.Nick, x => x.p);
    }

    public LedgerSettings Ledger { get; }
    public IReadOnlyList<Person> People { get; }

    public Person? FindById(string? id) => id is not null && _byId.TryGetValue(id, out var p) ? p : null;

    /// <summary>Nicks compare the IRC way (rfc1459 case mapping: [ ] \ ~ fold to { } | ^).</summary>
    public Person? FindByNick(string nick) => _byNick.TryGetValue(IrcCase.Fold(nick), out var p) ? p : null;
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
