using Larsbot.Irc;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Paging;

/// <summary>
/// A 600-character alert on a phone: the URGENT line carries it whole, every countdown, paging and purge line quotes
/// it cut to about 100 characters, and the SMS/push body is not cut.
/// </summary>
public class LongAlertWordingTests
{
    private static string LongMessage(string tag) =>
        $"{tag} disk full: " + string.Concat(Enumerable.Range(0, 60).Select(i => $"/var/{i:D3}x ")).TrimEnd();

    private static void AssertQuotedShort(string line, string summary)
    {
        // Under 200 chars, or a little over when the line also lists everybody's phone (about 90 chars for three).
        var limit = line.Contains("(brong (+61400000001), robn", StringComparison.Ordinal) ? 230 : 200;
        Assert.True(line.Length < limit, $"{line.Length} chars: {line}");
        Assert.Contains($"'{Wording.Quote(summary)}'", line);
        Assert.DoesNotContain(summary, line);
    }

    [Fact]
    public async Task Countdown_paging_and_purge_lines_quote_a_long_alert_cut_and_the_urgent_line_and_pages_keep_it_whole()
    {
        using var h = new EngineHarness();
        var said = new List<string>();
        var checkedLines = 0;
        async Task<long> AlertAsync(string host, string message)
        {
            var id = await h.AlertAsync(host, message);
            await h.Engine.RunDueAsync();
            Assert.Contains($"URGENT {host} - {message}", h.Channel.Take());
            return id;
        }
        void Check(string summary, params string[] starts)
        {
            var lines = h.Channel.Take();
            said.AddRange(lines);
            foreach (var start in starts)
                Assert.Contains(lines, l => l.StartsWith(start, StringComparison.Ordinal));
            foreach (var l in lines.Where(l => l.StartsWith("LarsSMS:", StringComparison.Ordinal) || l.StartsWith("sms purged:", StringComparison.Ordinal)))
            {
                AssertQuotedShort(l, summary);
                checkedLines++;
            }
        }

        // Nobody on duty: the first page goes to everybody.
        var a = LongMessage("a");
        Assert.True(a.Length >= 600);
        await AlertAsync("db1", a);
        await h.AdvanceAsync(TimeSpan.FromSeconds(30));
        Check($"db1: {a}", "LarsSMS: 'db1: a disk full", "LarsSMS: nobody on duty, paging everybody now");
        Assert.All(await h.PagesAsync(), p => Assert.Equal($"db1: {a}", p.Body));
        await h.AckAsync("brong");
        h.Channel.Take();
        await h.AdvanceAsync(h.Options.AckModeFor);
        h.Channel.Take();

        // On duty: countdown, first page, then everybody.
        await h.TakeDutyAsync("brong", "brong");
        var b = LongMessage("b");
        await AlertAsync("db2", b);
        await h.AdvanceAsync(TimeSpan.FromSeconds(30));
        Check($"db2: {b}", "LarsSMS: 'db2: b disk full", "LarsSMS: paging brong (+61400000001) now: 'db2: b disk full");
        await h.AdvanceAsync(h.Options.EscalateAfter);
        Check($"db2: {b}", "LarsSMS: nobody acked in 5 minutes, paging everybody");
        Assert.Contains(await h.PagesAsync(), p => p.Body.StartsWith($"db2: {b} (not acked in 5 minutes", StringComparison.Ordinal));
        await h.AckAsync("brong");
        h.Channel.Take();
        await h.AdvanceAsync(h.Options.AckModeFor);
        h.Channel.Take();

        // Acked while counting down, and while paged: the purge lines.
        var c = LongMessage("c");
        await AlertAsync("db3", c);
        await h.AdvanceAsync(TimeSpan.FromSeconds(5));
        Check($"db3: {c}", "LarsSMS: 'db3: c disk full");
        await h.AckAsync("brong");
        Check($"db3: {c}", "sms purged: brong (+61400000001) 'db3: c disk full");
        await h.AdvanceAsync(h.Options.AckModeFor);
        h.Channel.Take();

        var d = LongMessage("d");
        await AlertAsync("db4", d);
        await h.AdvanceAsync(TimeSpan.FromSeconds(30));
        h.Channel.Take();
        await h.AckAsync("brong");
        Check($"db4: {d}", "sms purged: everybody (brong, robn, neilj) 'db4: d disk full");

        Assert.True(checkedLines >= 8, $"only {checkedLines} lines checked:\n{string.Join('\n', said)}");
    }
}
