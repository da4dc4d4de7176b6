using Dapper;
using Larsbot.Irc;
using Larsbot.Storage;
using Larsbot.Tests.Paging;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Outbox;

public class OutboxStoreTests
{
    [Fact]
    public async Task Channel_lines_are_deleted_after_the_keep_time_with_their_attempts_and_pages_to_people_stay()
    {
        using var h = new EngineHarness();
        await h.TakeDutyAsync("brong", "brong");
        await h.AlertAsync("db1", "disk full");
        await h.AdvanceAsync(h.Options.Countdown); // lines, ticks, the topic, and the first page (sms + push)
        var sender = h.Sender([new IrcNotifier(h.Channel), new ScriptedNotifier("sms"), new ScriptedNotifier("push")]);
        await sender.SendDueAsync(CancellationToken.None);
        await sender.DrainAsync();
        var old = await CountAsync(h, "SELECT COUNT(*) FROM outbox WHERE channel = 'irc'");
        Assert.True(old >= 5, $"only {old} lines");

        h.Clock.Advance(TimeSpan.FromDays(8));
        await h.AlertAsync("db2", "disk full"); // a line decided now, not yet said
        await h.Engine.RunDueAsync();

        var pruned = await h.Outbox.PruneLinesAsync(h.Clock.GetUtcNow() - h.OutboxOptions.KeepChannelLinesFor, batch: 2);
        Assert.Equal(old, pruned);
        Assert.Equal(0, await CountAsync(h, "SELECT COUNT(*) FROM outbox WHERE channel = 'irc' AND created_at < @cutoff"));
        Assert.Contains(await h.Db.ReadAsync(c => c.QueryAsync<string>("SELECT body FROM outbox WHERE channel = 'irc'")),
            b => b.StartsWith("URGENT db2 - disk full", StringComparison.Ordinal));
        Assert.Equal(2, await CountAsync(h, "SELECT COUNT(*) FROM pages WHERE stage = 'first'"));
        Assert.Equal(2, await CountAsync(h, "SELECT COUNT(*) FROM page_attempts"));
        // SQLite checks foreign keys only when asked; PostgreSQL refuses a dangling one at the DELETE itself.
        if (!TempDatabase.OnPostgres) Assert.Empty(await h.Db.ReadAsync(c => c.QueryAsync("PRAGMA foreign_key_check")));
    }

    private static Task<long> CountAsync(EngineHarness h, string sql) =>
        h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>(sql, new { cutoff = UnixMs.From(h.Clock.GetUtcNow() - h.OutboxOptions.KeepChannelLinesFor) }));
}
