using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Xunit.Abstractions;

namespace Larsbot.Tests.StatusPage;

/// <summary>
/// The status page in a real browser (Debian's headless Chromium) against the real bot: an alert's countdown appears
/// and ticks, an ack typed in IRC turns the page to ack mode, and the page is photographed for people to look at
/// (.run/screenshots/status.png and status-phone.png).
/// </summary>
public sealed class StatusPageBrowserTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private NgircdServer _irc = null!;
    private FakeProviders _providers = null!;
    private readonly TempDatabase _db = new();
    private RunningBot _bot = null!;
    private RawIrcClient _brong = null!;
    private HeadlessChromium _browser = null!;

    public async Task InitializeAsync()
    {
        _irc = await NgircdServer.StartAsync();
        _providers = await FakeProviders.StartAsync();
        // Last month's report, as the monthly job would have left it, so the page has something to link.
        var reports = Path.Combine(_db.Dir, "reports");
        Directory.CreateDirectory(reports);
        foreach (var f in Directory.GetFiles(Path.Combine(RepoPaths.Root, "docs", "examples"), "payout-2026-10.*").Where(f => !f.EndsWith(".png")))
            File.Copy(f, Path.Combine(reports, Path.GetFileName(f)));
        var settings = RunningBot.Settings(_irc.Port, _providers, _db);
        // Long enough to see the countdown tick and ack before it pages; ack mode outlasts the test.
        settings["Paging:Countdown"] = "00:00:25";
        settings["Paging:TickEvery"] = "00:00:05";
        settings["Paging:AckModeFor"] = "00:30:00";
        settings["Ledger:ReportFolder"] = reports;
        _bot = await RunningBot.StartAsync(settings);
        await _bot.WaitHealthyAsync();
        _brong = await RawIrcClient.ConnectAsync(_irc.Port, "brong_");
        await _brong.JoinAsync(RunningBot.Channel);
        _browser = await HeadlessChromium.StartAsync();
    }

    public async Task DisposeAsync()
    {
        // Each step on its own so one failing does not leave Chromium or ngircd running.
        await Teardown.AllAsync(_browser, _brong, _bot, _providers, _irc, _db);
    }

    private Task SayAsync(string text) => _brong.SendAsync($"PRIVMSG {RunningBot.Channel} :{text}");

    private static string Text(string selector) =>
        $"(function () {{ var e = document.querySelector({System.Text.Json.JsonSerializer.Serialize(selector)}); return e ? e.textContent.replace(/\\s+/g, ' ').trim() : null; }})()";

    [Fact]
    public async Task Countdown_appears_and_ticks_then_an_ack_in_IRC_turns_the_page_to_ack_mode()
    {
        await SayAsync("lars duty take");
        await _brong.WaitForLineAsync(l => RawIrcClient.Is(l, "TOPIC") && l.Contains("Bron Gondwana"), Wait);
        await _bot.PostAlertAsync("db1", "irc", "replication lag 40s");
        await _bot.PostAlertAsync("backup1", "info", "nightly backup done");

        await _browser.SetViewportAsync(1100, 900, mobile: false);
        await _browser.NavigateAsync(_bot.HttpBase + "/");
        await _browser.WaitForTextAsync(Text("#mode .big"), t => t == "Normal", Wait, "normal mode");
        await _browser.WaitForTextAsync(Text("#duty .big"), t => t == "Bron Gondwana", Wait, "who is on duty");
        Assert.Equal("No open alerts.", await _browser.TextAsync(Text("#open p")));
        // The inline script ran under the page's nonce-only CSP and has polled at least once.
        await _browser.WaitForTextAsync(Text("#conn"), t => t.StartsWith("live, updated", StringComparison.Ordinal), Wait, "the live poll");

        var id = await _bot.PostAlertAsync("gateway2", "urgent", "rblcheck: listed <img src=x onerror=alert(1)>");
        var first = await _browser.WaitForTextAsync(Text("#open .countdown"), t => t.EndsWith(" s"), Wait, "the countdown");
        output.WriteLine($"countdown first seen at {first}");
        var seconds = int.Parse(first[..^2]);
        Assert.InRange(seconds, 1, 25);
        // It ticks in the browser (between polls too): wait for a smaller number.
        await _browser.WaitForTextAsync(Text("#open .countdown"), t => t.EndsWith(" s") && int.Parse(t[..^2]) < seconds, Wait, "the countdown ticking");
        Assert.Contains("Pages brong in", await _browser.TextAsync(Text("#open .what")));
        // Alert text is shown as text, never as markup.
        Assert.Contains("rblcheck: listed <img src=x onerror=alert(1)>", await _browser.TextAsync(Text("#open li")));
        Assert.Equal("0", (await _browser.EvaluateAsync("String(document.querySelectorAll('img').length)"))?.GetString());

        var folder = Path.Combine(RepoPaths.Root, ".run", "screenshots");
        Directory.CreateDirectory(folder);
        await File.WriteAllBytesAsync(Path.Combine(folder, "status-countdown.png"), await _browser.ScreenshotAsync());

        await SayAsync("lars ack");
        await _brong.WaitForLineAsync(l => l.Contains("ack: OK brong_ acked 1 issues"), Wait);
        await _browser.WaitForTextAsync(Text("#mode .big"), t => t == "Acked by brong_", Wait, "ack mode");
        await _browser.WaitForTextAsync(Text("#open p"), t => t == "No open alerts.", Wait, "the open alert gone");
        Assert.Equal("acked by brong_", await _browser.TextAsync(Text($"tr[data-alert=\"{id}\"] .state")));
        Assert.Contains("left", await _browser.TextAsync(Text("#mode")));
        Assert.Equal("html · md · csv", (await _browser.TextAsync(Text("#reports li")))?.Replace("2026-10: ", ""));

        var desktop = await _browser.ScreenshotAsync();
        Assert.True(desktop.Length > 10_000, "screenshot looks empty");
        await File.WriteAllBytesAsync(Path.Combine(folder, "status.png"), desktop);
        await _browser.SetViewportAsync(390, 844, mobile: true, scale: 2);
        await _browser.WaitForTextAsync("String(document.documentElement.clientWidth)", t => t == "390", Wait, "the phone viewport");
        // Nothing wider than the phone: no sideways scrolling.
        Assert.Equal("390", await _browser.TextAsync("String(document.documentElement.scrollWidth)"));
        await File.WriteAllBytesAsync(Path.Combine(folder, "status-phone.png"), await _browser.ScreenshotAsync());
        output.WriteLine($"screenshots in {folder}");
    }
}
