using Dapper;
using Larsbot.StatusPage;
using Larsbot.Tests.Ledger;
using Larsbot.Tests.Paging;

namespace Larsbot.Tests.StatusPage;

/// <summary>What the page reads from the rows, and how it renders them, on a fake clock: no host, no browser.</summary>
public sealed class StatusStoreTests : IDisposable
{
    private readonly EngineHarness _h = new();
    private readonly StatusStore _store;

    public StatusStoreTests() => _store = new StatusStore(_h.Db, _h.Roster, _h.Clock);

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task A_quiet_bot_shows_normal_mode_nobody_on_duty_and_no_silences_section_without_the_table()
    {
        // A failed read of the silences (here: no table at all) leaves the section out; it must not take the page down.
        await _h.Db.WriteAsync((c, tx) => c.ExecuteAsync("DROP TABLE IF EXISTS silences", transaction: tx));
        var s = await _store.ReadAsync();
        Assert.Null(s.AckMode);
        Assert.Null(s.Duty);
        Assert.Empty(s.Open);
        Assert.Null(s.Silences);
        var html = StatusPageHtml.Live(s);
        Assert.Contains("Normal", html);
        Assert.Contains("Nobody", html);
        Assert.DoesNotContain("Active silences", html);
    }

    [Fact]
    public async Task Countdown_then_ack_moves_from_open_with_a_deadline_to_acked_by_the_nick()
    {
        await _h.TakeDutyAsync("brong", "brong_");
        var id = await _h.AlertAsync("gateway2", "rblcheck: listed");
        await _h.AdvanceAsync(TimeSpan.FromSeconds(5));

        var s = await _store.ReadAsync();
        Assert.Equal("Bron Gondwana", s.Duty!.Person.Name);
        // 03:00 UTC on 23 Nov is 14:00 in Melbourne (AEDT, +11).
        Assert.Equal(14, s.Duty.LocalNow.Hour);
        var open = Assert.Single(s.Open);
        Assert.Equal("counting", open.State);
        Assert.Equal(TimeSpan.FromSeconds(25), open.Deadline!.Value - s.Now);
        Assert.Equal("counting down", s.Recent.Single(a => a.Id == id).State);
        var html = StatusPageHtml.Live(s);
        Assert.Contains($"data-until=\"{open.Deadline.Value.ToUnixTimeMilliseconds()}\">25 s</span>", html);
        Assert.Contains("Their time: <b>Mon 14:00</b> (Australia/Melbourne)", html);

        await _h.AckAsync("brong_");
        s = await _store.ReadAsync();
        Assert.Empty(s.Open);
        Assert.Equal("brong_", s.AckMode!.Nick);
        Assert.Equal(_h.Clock.GetUtcNow() + _h.Options.AckModeFor, s.AckMode.EndsAt);
        Assert.Equal("acked by brong_", s.Recent.Single(a => a.Id == id).State);
        Assert.Contains("Acked by brong_", StatusPageHtml.Live(s));
    }

    [Fact]
    public async Task Paged_then_acked_says_so_and_states_cover_irc_info_and_ack_mode()
    {
        await _h.TakeDutyAsync("brong", "brong_");
        var urgent = await _h.AlertAsync("db1", "disk full");
        await _h.AdvanceAsync(TimeSpan.FromSeconds(31));
        var s = await _store.ReadAsync();
        Assert.Equal("paged", Assert.Single(s.Open).State);
        Assert.Contains("everybody in", StatusPageHtml.Live(s));

        await _h.AckAsync("brong_");
        var irc = await _h.AlertAsync("db1", "lag", "irc");
        var info = await _h.AlertAsync("db1", "fyi", "info");
        var quiet = await _h.AlertAsync("db2", "during ack mode");
        await _h.AdvanceAsync(TimeSpan.FromSeconds(1));
        s = await _store.ReadAsync();
        var states = s.Recent.ToDictionary(a => a.Id, a => a.State);
        Assert.Equal("paged, acked by brong_", states[urgent]);
        Assert.Equal("announced", states[irc]);
        Assert.Equal("recorded", states[info]);
        Assert.Equal("announced (ack mode)", states[quiet]);
        Assert.Equal(quiet, s.Recent[0].Id);
    }

    [Fact]
    public async Task Only_the_last_50_alerts_newest_first()
    {
        for (var i = 0; i < 55; i++) await _h.AlertAsync("h", $"m{i}", "info");
        var s = await _store.ReadAsync();
        Assert.Equal(50, s.Recent.Count);
        Assert.Equal("m54", s.Recent[0].Message);
        Assert.Equal("m5", s.Recent[^1].Message);
    }

    [Fact]
    public async Task Alert_and_silence_text_is_html_encoded_everywhere_it_appears()
    {
        const string evil = "<script>alert(1)</script><img src=x onerror=alert(2)> & \"q\" 'a'";
        await _h.TakeDutyAsync("brong", "brong_");
        await _h.AlertAsync("db1", evil);
        await _h.AdvanceAsync(TimeSpan.FromSeconds(1));
        // The real silences table (issue 6's migration), filled with hostile text.

        var html = StatusPageHtml.Live(await _store.ReadAsync());
        Assert.Contains("Active silences", html);
        Assert.Contains("None.", html);
        await _h.Db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO silences(created_at, ends_at, pattern, person_id, nick) VALUES (@now, @later, @evil, 'brong', 'brong_'), (@now, @now, 'zzexpired', 'robn', 'robn')",
            new { now = _h.Clock.GetUtcNow().ToUnixTimeMilliseconds(), later = _h.Clock.GetUtcNow().AddHours(1).ToUnixTimeMilliseconds(), evil }, tx));
        var s = await _store.ReadAsync();
        var silence = Assert.Single(s.Silences!);
        Assert.Contains(silence.Fields, f => f.Key == "ends_at" && f.Value == "2026-11-23 04:00:01 UTC");
        html = StatusPageHtml.Live(s);

        Assert.DoesNotContain("<script>alert", html);
        Assert.DoesNotContain("<img", html);
        var encoded = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; &amp; &quot;q&quot; &#39;a&#39;";
        Assert.Contains($"<span class=\"host\">db1</span> {encoded}</li>", html); // open alerts
        Assert.Contains($"<td data-label=\"message\" class=\"msg\">{encoded}</td>", html); // last 50
        Assert.Contains($"pattern: <b>{encoded}</b>", html); // silences
        Assert.DoesNotContain("zzexpired", html);
    }

    [Fact]
    public async Task The_full_page_has_the_ledger_chart_report_links_and_no_outside_resources()
    {
        using var ledger = new LedgerHarness(new EngineHarness(clock: _h.Clock));
        await ledger.Engine.TakeDutyAsync("brong", "brong_");
        ledger.Clock.Advance(TimeSpan.FromHours(30));
        var report = await ledger.Payouts.BuildAsync(ledger.Payouts.MonthNow());
        var reports = new[] { new ReportMonth("2026-10", ["payout-2026-10.html", "payout-2026-10.md", "payout-2026-10.csv"]) };

        var html = StatusPageHtml.Page(await _store.ReadAsync(), report, reports, "?token=a%26b", "NONCE");

        Assert.Contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">", html);
        Assert.Contains("This month's ledger: 2026-11 so far", html);
        Assert.Contains("<svg class=\"chart\"", html);
        Assert.Contains("<td>Bron Gondwana</td>", html);
        Assert.Contains("<a href=\"reports/payout-2026-10.html?token=a%26b\">html</a>", html);
        Assert.Contains("<script nonce=\"NONCE\">", html);
        Assert.Contains("<style nonce=\"NONCE\">", html);
        // Nothing from elsewhere: no external script, stylesheet, font or image.
        Assert.DoesNotContain("src=", html);
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotContain("@import", html);
        Assert.DoesNotContain("url(", html);
    }

    [Theory]
    [InlineData(0, "0 s")]
    [InlineData(0.2, "1 s")]
    [InlineData(119, "119 s")]
    [InlineData(120, "2m 0s")]
    [InlineData(1799, "29m 59s")]
    [InlineData(7200, "2h 0m")]
    public void Left_matches_the_scripts_wording(double seconds, string expected) =>
        Assert.Equal(expected, StatusPageHtml.Left(TimeSpan.FromSeconds(seconds)));
}
