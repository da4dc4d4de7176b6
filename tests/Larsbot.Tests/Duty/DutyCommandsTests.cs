using Dapper;
using Larsbot.Tests.Ledger;
using Larsbot.Tests.Paging;
using static Larsbot.Tests.Ledger.LedgerHarness;

namespace Larsbot.Tests.Duty;

/// <summary>`lars duty give/accept/decline/history` through ChatCommands, on a fake clock over a real SQLite file.</summary>
public class DutyCommandsTests
{
    private static readonly DateTimeOffset Start = Mel(2026, 11, 23, 14);

    private static async Task<LedgerHarness> BrongOnDutyAsync()
    {
        var h = new LedgerHarness(Start);
        await h.SayAsync("brong", "lars duty take");
        h.Engine.Channel.Take();
        return h;
    }

    private static Task<string?> OnDutyAsync(LedgerHarness h) =>
        h.Engine.Db.ReadAsync(c => c.ExecuteScalarAsync<string?>("SELECT person_id FROM duty_changes ORDER BY id DESC LIMIT 1"));

    [Fact]
    public async Task Give_is_only_an_offer_until_the_other_person_accepts()
    {
        using var h = await BrongOnDutyAsync();
        await h.SayAsync("brong_", "lars duty give robn");
        Assert.Equal(["duty: handing over is discouraged - whoever is on duty should take it on knowingly. " +
                      "robn: Bron Gondwana offers you duty; say 'lars duty accept' within 10 minutes, or 'lars duty decline'."], h.Engine.Channel.Take());
        Assert.Equal("brong", await OnDutyAsync(h));

        await h.AtAsync(Start + TimeSpan.FromMinutes(9.9));
        await h.SayAsync("robn", "lars duty accept");
        Assert.Equal(["duty: Rob Norris (robn) accepted duty from Bron Gondwana and is now on duty (Mon 14:09 in Australia/Melbourne)"], h.Engine.Channel.Take());
        Assert.Equal("robn", await OnDutyAsync(h));
        Assert.StartsWith("online, normal mode, Rob Norris in Australia/Melbourne on duty", h.Engine.Channel.Topic);
    }

    [Fact]
    public async Task An_offer_expires_after_ten_minutes_on_the_clock()
    {
        using var h = await BrongOnDutyAsync();
        await h.SayAsync("brong", "lars duty give neilj");
        h.Engine.Channel.Take();
        await h.AtAsync(Start + TimeSpan.FromMinutes(10));
        await h.SayAsync("neilj", "lars duty accept");
        // neilj is in Oslo: the expiry time is his.
        Assert.Equal(["neilj: Bron Gondwana's offer expired at Mon 23 Nov 04:10 (Europe/Oslo). Ask again, or say 'lars duty take'."], h.Engine.Channel.Take());
        Assert.Equal("brong", await OnDutyAsync(h));
        await h.SayAsync("neilj", "lars duty accept");
        Assert.Equal(["neilj: nobody has offered you duty. To take it anyway, say 'lars duty take'."], h.Engine.Channel.Take());
    }

    [Fact]
    public async Task Decline_refuses_the_offer_and_duty_stays()
    {
        using var h = await BrongOnDutyAsync();
        await h.SayAsync("brong", "lars duty give robn");
        await h.SayAsync("robn", "lars duty decline");
        Assert.Equal("duty: Rob Norris declined; Bron Gondwana stays on duty.", h.Engine.Channel.Take().Last());
        await h.SayAsync("robn", "lars duty accept");
        Assert.Equal(["robn: nobody has offered you duty. To take it anyway, say 'lars duty take'."], h.Engine.Channel.Take());
        Assert.Equal("brong", await OnDutyAsync(h));
    }

    [Fact]
    public async Task A_pending_offer_survives_a_restart()
    {
        using var h = await BrongOnDutyAsync();
        await h.SayAsync("brong", "lars duty give robn");
        h.Engine.Channel.Take(); // said before the restart (a line still in the outbox would be said after it)
        // A new bot on the same file and clock: the offer is a row, so it is still there.
        using var restarted = new LedgerHarness(new EngineHarness(sharedDb: h.Engine.TempDb, clock: h.Clock));
        await restarted.AtAsync(Start + TimeSpan.FromMinutes(3));
        await restarted.SayAsync("robn", "lars duty accept");
        Assert.StartsWith("duty: Rob Norris (robn) accepted duty from Bron Gondwana", Assert.Single(restarted.Engine.Channel.Take()));
        Assert.Equal("robn", await OnDutyAsync(h));
    }

    [Fact]
    public async Task Only_the_person_on_duty_can_give_it_and_only_to_someone_in_the_roster()
    {
        using var h = await BrongOnDutyAsync();
        await h.SayAsync("robn", "lars duty give neilj");
        await h.SayAsync("brong", "lars duty give mallory");
        await h.SayAsync("brong", "lars duty give brong_");
        await h.SayAsync("mallory", "lars duty accept");
        Assert.Equal([
            "robn: only the person on duty (Bron Gondwana) can give duty away. To take it yourself, say 'lars duty take'.",
            "brong: 'mallory' is not in the roster, so they can't hold duty.",
            "brong: you can't give duty to yourself.",
            "sorry mallory, you're not in the roster, so I can't take commands from you. Ask the team to add your nick.",
        ], h.Engine.Channel.Take());
    }

    [Fact]
    public async Task An_offer_is_void_when_duty_changed_hands_meanwhile()
    {
        using var h = await BrongOnDutyAsync();
        await h.SayAsync("brong", "lars duty give robn");
        await h.SayAsync("neilj", "lars duty take");
        h.Engine.Channel.Take();
        await h.SayAsync("robn", "lars duty accept");
        Assert.Equal(["robn: Bron Gondwana's offer no longer stands: duty has changed hands since. Say 'lars duty take' if you mean to take it."], h.Engine.Channel.Take());
        Assert.Equal("neilj", await OnDutyAsync(h));
    }

    [Fact]
    public async Task History_shows_the_last_five_changes_newest_first_in_the_askers_time_zone()
    {
        using var h = await BrongOnDutyAsync();
        var who = new[] { "robn", "neilj", "brong", "robn", "neilj" };
        for (var i = 0; i < who.Length; i++)
        {
            await h.AtAsync(Start + TimeSpan.FromHours(i + 1));
            await h.SayAsync(who[i], "lars duty take");
        }
        await h.AtAsync(Start + TimeSpan.FromHours(6));
        await h.SayAsync("neilj", "lars duty give robn");
        await h.SayAsync("robn", "lars duty accept");
        h.Engine.Channel.Take();

        await h.SayAsync("neilj", "lars duty history");
        Assert.Equal([
            "duty history, last 5 (times in Europe/Oslo):",
            "  Mon 23 Nov 10:00 Rob Norris accepted duty handed over (robn)",
            "  Mon 23 Nov 09:00 Neil Jenkins took duty (neilj)",
            "  Mon 23 Nov 08:00 Rob Norris took duty (robn)",
            "  Mon 23 Nov 07:00 Bron Gondwana took duty (brong)",
            "  Mon 23 Nov 06:00 Neil Jenkins took duty (neilj)",
        ], h.Engine.Channel.Take());
    }
}
