using System.Reflection;
using Dapper;
using Larsbot.Roster;
using Larsbot.Storage;
using Larsbot.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Larsbot.Tests.Paging;

/// <summary>The everyone-page rings people with "call": true, through the same outbox as SMS and push.</summary>
public class VoiceCallTests
{
    private static TeamRoster RosterWithCalls() =>
        TestRoster.FromJson(File.ReadAllText(Path.Combine(RepoPaths.Root, "roster.sample.json"))
            .Replace("\"phone\": \"+4790000003\"", "\"phone\": \"+4790000003\", \"call\": true"));

    [Fact]
    public async Task Only_the_everyone_page_calls_and_only_people_with_call_true()
    {
        var roster = RosterWithCalls();
        Assert.True(roster.FindById("neilj")!.Call);
        using var h = new EngineHarness(roster: roster);
        await h.TakeDutyAsync("neilj", "neilj");
        await h.AlertAsync("db1", "down");
        await h.AdvanceAsync(TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(await h.PagesAsync(), p => p.Channel == "call");

        await h.AdvanceAsync(TimeSpan.FromMinutes(5));
        var call = Assert.Single(await h.PagesAsync(), p => p.Channel == "call");
        Assert.Equal(("everyone", "neilj", "+4790000003"), (call.Stage, call.PersonId, call.Destination));
    }

    [Fact]
    public void Call_true_without_a_phone_is_a_roster_error()
    {
        var json = """
            {"ledger":{"currency":"AUD","stipendPerDay":1,"pageBonus":1,"timeZone":"UTC"},
             "people":[{"id":"a","name":"A","nicks":["a"],"timeZone":"UTC","pushover":"uQiRzpo4DXghDmr9QzzfQu27cmVRsG","call":true}]}
            """;
        var e = Assert.Throws<RosterException>(() => RosterLoader.Parse(json));
        Assert.Contains("people[0].call: true needs a phone number to call", e.Message);
    }

    [Fact]
    [Trait("Provider", "sqlite")] // SQLite's own migration 004 over a file made by 001-003; PostgreSQL's schema starts at the end state
    public async Task Migration_004_keeps_existing_pages_and_their_attempts()
    {
        using var tmp = TempDatabase.Sqlite();
        await using (var c = new SqliteConnection($"Data Source={tmp.Path};Pooling=False"))
        {
            await c.OpenAsync();
            await OlderSchema.ApplyBeforeAsync(c, "004");
            await c.ExecuteAsync("""
                INSERT INTO countdowns(id, started_at, page_at, state) VALUES (1, 0, 0, 'paged');
                INSERT INTO pages(id, countdown_id, stage, person_id, channel, destination, title, body, created_at, state, next_attempt_at, provider_id)
                VALUES (7, 1, 'first', 'brong', 'sms', '+61400000001', 't', 'b', 0, 'sent', 0, 'SM1');
                INSERT INTO page_attempts(page_id, started_at, outcome) VALUES (7, 0, 'sent');
                """);
        }
        var db = new Database(tmp.Path);
        db.Migrate();
        await db.WriteAsync(async (c, tx) =>
        {
            Assert.Equal("SM1", await c.ExecuteScalarAsync<string>("SELECT provider_id FROM pages WHERE id = 7", transaction: tx));
            Assert.Equal(7, await c.ExecuteScalarAsync<long>("SELECT page_id FROM page_attempts", transaction: tx));
            await c.ExecuteAsync("INSERT INTO outbox(countdown_id, stage, person_id, channel, destination, title, body, created_at, state, next_attempt_at) VALUES (1, 'everyone', 'neilj', 'call', '+4790000003', 't', 'b', 0, 'due', 0)", transaction: tx);
            Assert.Empty(await c.QueryAsync("PRAGMA foreign_key_check", transaction: tx));
        });
    }
}

public class TwilioCallNotifierTests
{
    [Fact]
    public async Task Places_a_call_whose_TwiML_reads_the_page_escaped()
    {
        await using var fake = await Larsbot.Tests.Notify.FakeProviders.StartAsync();
        using var http = new HttpClient();
        var notifier = new Larsbot.Notify.TwilioCallNotifier(http, new Larsbot.Notify.TwilioOptions
        {
            AccountSid = fake.AccountSid, AuthToken = fake.AuthToken, From = Larsbot.Tests.Notify.FakeProviders.DefaultTwilioFrom, BaseUrl = fake.BaseUrl,
        });
        var result = await notifier.SendAsync(new("neilj", "+4790000003", "Larsbot: URGENT, nobody acked", "db1: <disk> & more"), CancellationToken.None);

        Assert.Equal(Larsbot.Notify.SendOutcome.Sent, result.Outcome);
        Assert.StartsWith("CA", result.ProviderId);
        var call = Assert.Single(fake.CallRequests);
        Assert.Equal("+4790000003", call["To"]);
        Assert.Contains("<Say>Larsbot: URGENT, nobody acked. db1: &lt;disk&gt; &amp; more</Say>", call["Twiml"]);
        Assert.Empty(fake.Rejections);
    }

    public static TheoryData<string, string> HostileTexts() => new()
    {
        { "markup", string.Concat(Enumerable.Repeat("&<>\"'", 400)) },
        { "ampersands", new string('&', 5000) },
        { "controls", string.Concat(Enumerable.Range(0, 0x20).Select(i => (char)i)) + "\u007f\u0085\ufffe\uffff disk full" },
        { "lone surrogates", "db1 \ud800 down \udc00 now \ud83d" + string.Concat(Enumerable.Repeat("x\udfff", 300)) },
        { "emoji", string.Concat(Enumerable.Repeat("🔥💾 disk & <full> ", 400)) },
        { "everything", string.Concat(Enumerable.Repeat("\u0000&\ud83d\udd25<\ud800\u0008'\"\r\n>", 2000)) },
    };

    [Theory]
    [MemberData(nameof(HostileTexts), DisableDiscoveryEnumeration = true)] // as written: serialising would mangle lone surrogates
    public void TwiML_is_well_formed_and_under_Twilios_limit_whatever_the_alert_says(string name, string body)
    {
        var twiml = Larsbot.Notify.TwilioCallNotifier.Twiml(new("neilj", "+4790000003", "Larsbot: URGENT, nobody acked", "db1: " + body));
        Assert.True(twiml.Length <= Larsbot.Notify.TwilioCallNotifier.MaxTwimlLength, $"{name}: {twiml.Length} characters");
        // System.Xml checks every character is legal XML (a control character throws here); it lets a lone
        // surrogate through from a string, so that is checked by hand: every surrogate is half of a pair.
        var doc = System.Xml.Linq.XDocument.Parse(twiml);
        for (var i = 0; i < twiml.Length; i++)
            if (char.IsSurrogate(twiml[i]))
                Assert.True(char.IsSurrogatePair(twiml, i) || (i > 0 && char.IsSurrogatePair(twiml, i - 1)), $"{name}: lone surrogate at {i}");
        var says = doc.Root!.Elements("Say").Select(e => e.Value).ToList();
        Assert.Equal(3, says.Count);
        Assert.Equal(says[0], says[1]);
        Assert.StartsWith("Larsbot: URGENT, nobody acked. db1: ", says[0]);
        Assert.Equal("Say lars ack in the channel to stop the pages.", says[2]);
        Assert.DoesNotContain(says[0], c => char.IsControl(c) || c is '\ufffe' or '\uffff');
        // Characters (an emoji is one), the "…" of a cut included.
        var spoken = says[0].EnumerateRunes().Count();
        Assert.True(spoken <= Larsbot.Notify.TwilioCallNotifier.MaxSpokenLength + 1, $"{name}: {spoken}");
    }

    [Fact]
    public void TwiML_keeps_emoji_whole_and_marks_a_cut()
    {
        var twiml = Larsbot.Notify.TwilioCallNotifier.Twiml(new("neilj", "+4790000003", "T", string.Concat(Enumerable.Repeat("🔥", 3000))));
        var say = System.Xml.Linq.XDocument.Parse(twiml).Root!.Element("Say")!.Value;
        Assert.EndsWith("🔥…", say);
        Assert.Equal("T. hello & bye", System.Xml.Linq.XDocument.Parse(Larsbot.Notify.TwilioCallNotifier.Twiml(new("x", "+1", "T", "hello & bye"))).Root!.Element("Say")!.Value);
    }

    [Fact]
    public async Task A_call_for_a_hostile_alert_reaches_Twilio_as_valid_TwiML()
    {
        await using var fake = await Larsbot.Tests.Notify.FakeProviders.StartAsync();
        using var http = new HttpClient();
        var notifier = new Larsbot.Notify.TwilioCallNotifier(http, new Larsbot.Notify.TwilioOptions
        {
            AccountSid = fake.AccountSid, AuthToken = fake.AuthToken, From = Larsbot.Tests.Notify.FakeProviders.DefaultTwilioFrom, BaseUrl = fake.BaseUrl,
        });
        var body = string.Concat(Enumerable.Repeat("\u0001<&>\ud800🔥'\"", 1500));
        var result = await notifier.SendAsync(new("neilj", "+4790000003", "Larsbot: URGENT, nobody acked", body), CancellationToken.None);
        Assert.Equal(Larsbot.Notify.SendOutcome.Sent, result.Outcome);
        var twiml = Assert.Single(fake.CallRequests)["Twiml"];
        Assert.InRange(twiml.Length, 1000, Larsbot.Notify.TwilioCallNotifier.MaxTwimlLength);
        System.Xml.Linq.XDocument.Parse(twiml);
    }
}
