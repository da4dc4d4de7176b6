using Larsbot.Duty;
using Larsbot.Roster;

namespace Larsbot.Tests.Roster;

/// <summary>Who may act: accounts, hostmasks, nick only for people who configured neither; their validation.</summary>
public sealed class RosterIdentityTests
{
    private const string Ledger = """
        "ledger": {"currency": "AUD", "stipendPerDay": 40.00, "pageBonus": 20.00, "timeZone": "Australia/Melbourne"}
        """;

    private static string With(string people) => "{" + Ledger + ", \"people\": [" + people + "]}";

    public const string People = """
        {"id": "brong", "name": "Bron Gondwana", "nicks": ["brong", "brong_"], "timeZone": "Australia/Melbourne",
         "email": "brong@example.com", "phone": "+61400000001", "accounts": ["brong"]},
        {"id": "robn", "name": "Rob Norris", "nicks": ["robn"], "timeZone": "Australia/Melbourne",
         "phone": "+61400000002", "hostmasks": ["*!*robn@*.example.com", "*!*robn@127.0.0.1"]},
        {"id": "neilj", "name": "Neil Jenkins", "nicks": ["neilj"], "timeZone": "Europe/Oslo", "phone": "+4790000003"}
        """;

    private static TeamRoster Roster(bool showContacts = true) => RosterLoader.Parse(With(People), showContacts: showContacts);

    [Fact]
    public void An_account_identifies_whatever_the_nick()
    {
        var who = Roster().Identify("bg", "x", "anywhere.net", "BRONG");
        Assert.Equal(("brong", "account", true), (who.Person!.Id, who.How, who.Verified));
    }

    [Fact]
    public void A_nick_alone_is_not_enough_for_someone_with_an_account_or_hostmask()
    {
        var r = Roster();
        var fake = r.Identify("brong_", "brong", "evil.net", null);
        Assert.Equal(("brong", "unverified", false), (fake.Person!.Id, fake.How, fake.Verified));
        Assert.False(r.Identify("brong", "brong", "evil.net", "mallory").Verified);
        Assert.False(r.Identify("robn", "robn", "robn.example.com.evil.net", null).Verified);
    }

    [Fact]
    public void A_hostmask_identifies_on_servers_without_accounts()
    {
        var r = Roster();
        Assert.Equal("robn", r.Identify("rob_away", "~robn", "laptop.example.com", null).Person!.Id);
        Assert.Equal("hostmask", r.Identify("ROBN", "robn", "127.0.0.1", null).How);
    }

    [Fact]
    public void Nick_only_people_and_strangers()
    {
        var r = Roster();
        Assert.Equal(("neilj", "nick"), (r.Identify("NeilJ", "x", "y", null).Person!.Id, r.Identify("neilj", "x", "y", null).How));
        var stranger = r.Identify("mallory", "m", "evil.net", "mallory");
        Assert.Null(stranger.Person);
        Assert.False(stranger.Verified);
    }

    [Theory]
    [InlineData("\"accounts\": [\"has space\"]", "people[0].accounts[0]: 'has space' is not a services account name")]
    [InlineData("\"accounts\": \"brong\"", "people[0].accounts: must be a list of strings")]
    [InlineData("\"accounts\": [\"robn\"]", "people[1].accounts[0]: account 'robn' is already used by people[0].accounts[0]")]
    [InlineData("\"hostmasks\": [\"brong@host\"]", "people[0].hostmasks[0]: 'brong@host' is not a hostmask like")]
    [InlineData("\"hostmasks\": [\"*!*@*\"]", "people[0].hostmasks[0]: '*!*@*' matches any host")]
    [InlineData("\"hostmasks\": [\"*!brong@*.*\"]", "people[0].hostmasks[0]: '*!brong@*.*' matches any host")]
    [InlineData("\"hostmasks\": [5]", "people[0].hostmasks[0]: must be a non-empty string")]
    public void New_fields_are_validated_with_json_paths(string field, string expected)
    {
        var people = """
            {"id": "brong", "name": "B", "nicks": ["brong"], "timeZone": "UTC", "phone": "+61400000001", FIELD},
            {"id": "robn", "name": "R", "nicks": ["robn"], "timeZone": "UTC", "phone": "+61400000002", "accounts": ["robn"]}
            """.Replace("FIELD", field);
        var e = Assert.Throws<RosterException>(() => RosterLoader.Parse(With(people)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ShowContacts_false_masks_phone_and_email_in_the_topic_and_page_labels()
    {
        var brong = Roster(showContacts: false).FindById("brong")!;
        Assert.Equal("online, normal mode, Bron Gondwana in Australia/Melbourne on duty - e:b…@example.com, p:+614…001",
            TopicComposer.Compose(brong, ackMode: false));
        Assert.Equal("brong (+614…001)", brong.Label);
        Assert.Equal("brong (+61400000001)", Roster().FindById("brong")!.Label);
    }
}
