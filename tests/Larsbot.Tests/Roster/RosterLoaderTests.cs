using Larsbot.Roster;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Roster;

public class RosterLoaderTests
{
    private const string Ledger = """
        "ledger": {"currency": "AUD", "stipendPerDay": 40.00, "pageBonus": 20.00, "timeZone": "Australia/Melbourne"}
        """;

    private static string With(string people) => "{" + Ledger + ", \"people\": [" + people + "]}";

    private const string Brong = """{"id": "brong", "name": "Bron Gondwana", "nicks": ["brong", "brong_"], "timeZone": "Australia/Melbourne", "email": "brong@example.com", "phone": "+61400000001", "pushover": "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"}""";

    [Fact]
    public void The_sample_roster_loads()
    {
        var r = TestRoster.Sample();
        Assert.Equal(["brong", "robn", "neilj"], r.People.Select(p => p.Id));
        Assert.Equal(40.00m, r.Ledger.StipendPerDay);
        Assert.Equal("AUD", r.Ledger.Currency);
        Assert.Same(r.FindById("brong"), r.FindByNick("BRONG_"));
        Assert.Null(r.FindByNick("mallory"));
    }

    [Fact]
    public void The_issue_shape_with_a_placeholder_key_names_the_pushover_field()
    {
        var e = Assert.Throws<RosterException>(() => RosterLoader.Parse(With(Brong.Replace("uQiRzpo4DXghDmr9QzzfQu27cmVRsG", "<user key>"))));
        Assert.Contains("people[0].pushover: not a Pushover user key", e.Message);
    }

    [Theory]
    [InlineData("\"timeZone\": \"Australia/Melbourne\", \"email\"", "\"timeZone\": \"Mars/Olympus\", \"email\"", "people[0].timeZone: 'Mars/Olympus' is not a known time zone")]
    [InlineData("\"+61400000001\"", "\"0400 000 001\"", "people[0].phone: '0400 000 001' is not E.164")]
    [InlineData("\"email\": \"brong@example.com\"", "\"email\": \"brong\"", "people[0].email: 'brong' is not an e-mail address")]
    [InlineData("\"id\": \"brong\"", "\"id\": \"Bron G\"", "people[0].id: 'Bron G' must be lower-case")]
    [InlineData("\"nicks\": [\"brong\", \"brong_\"]", "\"nicks\": []", "people[0].nicks: missing")]
    [InlineData("\"nicks\": [\"brong\", \"brong_\"]", "\"nicks\": [\"brong\", \"9lives\"]", "people[0].nicks[1]: '9lives' is not a valid IRC nick")]
    [InlineData("\"name\": \"Bron Gondwana\", ", "", "people[0].name: missing")]
    public void Each_problem_names_its_field(string from, string to, string expected)
    {
        var e = Assert.Throws<RosterException>(() => RosterLoader.Parse(With(Brong.Replace(from, to))));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Duplicate_nicks_are_caught_the_way_IRC_compares_them()
    {
        var rob = """{"id": "robn", "name": "Rob", "nicks": ["robn", "Brong_"], "timeZone": "UTC", "phone": "+61400000002"}""";
        var e = Assert.Throws<RosterException>(() => RosterLoader.Parse(With(Brong + "," + rob)));
        Assert.Contains("people[1].nicks[1]: nick 'Brong_' is already used by people[0].nicks[1]", e.Message);
    }

    [Fact]
    public void Duplicate_ids_and_unreachable_people_are_caught_and_all_problems_reported_at_once()
    {
        var again = """{"id": "brong", "name": "Another", "nicks": ["other"], "timeZone": "UTC"}""";
        var e = Assert.Throws<RosterException>(() => RosterLoader.Parse(With(Brong + "," + again)));
        Assert.Contains("people[1].id: 'brong' is already used by people[0]", e.Message);
        Assert.Contains("people[1]: has neither phone nor pushover", e.Message);
        Assert.Contains("2 problem(s)", e.Message);
    }

    [Fact]
    public void Ledger_problems_name_the_ledger_field()
    {
        var json = """{"ledger": {"currency": "dollars", "stipendPerDay": -1, "pageBonus": "20", "timeZone": "Nowhere/Land"}, "people": [""" + Brong + "]}";
        var e = Assert.Throws<RosterException>(() => RosterLoader.Parse(json));
        Assert.Contains("ledger.currency: 'dollars' is not an ISO 4217 code", e.Message);
        Assert.Contains("ledger.stipendPerDay: '-1' must be a number of at least 0", e.Message);
        Assert.Contains("ledger.pageBonus: '20' must be a number", e.Message);
        Assert.Contains("ledger.timeZone: 'Nowhere/Land' is not a known time zone", e.Message);
    }

    [Fact]
    public void Broken_json_says_where()
    {
        var e = Assert.Throws<RosterException>(() => RosterLoader.Parse("{\"ledger\": {,}"));
        Assert.Contains("not valid JSON (line 1)", e.Message);
    }

    [Fact]
    public void Money_is_read_exactly_as_decimal()
    {
        var r = RosterLoader.Parse(With(Brong).Replace("40.00", "33.33"));
        Assert.Equal(33.33m, r.Ledger.StipendPerDay);
    }
}
