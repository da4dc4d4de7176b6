using Dapper;
using Larsbot.Intake;
using Larsbot.Paging;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Paging;

/// <summary>
/// The engine's read of fresh alerts on SQLite names only the columns the modules use. What it leaves out must be what
/// an unhandled alert holds anyway (NULL or 0): these tests read the same alerts both ways, after the engine has run
/// over real alerts of every kind (keyed, unkeyed, repeats, info, urgent in a countdown) and more have arrived.
/// </summary>
[Trait("Provider", "sqlite")] // SQLite's own query (PostgreSQL's reads every column)
public sealed class FreshAlertsSqliteTests
{
    [Fact]
    public async Task Each_fresh_alert_reads_as_its_whole_row_with_its_original_by_text()
    {
        using var h = new EngineHarness();
        var first = new[]
        {
            Alert("web1", "urgent", "disk full"), Alert("web1", "irc", "load high"), Alert("db1", "info", "backup done"),
            Alert("db1", "urgent", "replica lag", key: "lag"), Alert("db2", "irc", "cert expires", key: "cert"),
        };
        foreach (var a in first) await h.Intake.AcceptAsync(a, "test");
        await h.Engine.RunDueAsync();
        // Now unhandled: repeats by text (of an urgent alert in a countdown, and of an irc one), a keyed repeat, new ones.
        var fresh = new[]
        {
            Alert("web1", "urgent", "disk full"), Alert("web1", "irc", "load high"), Alert("db1", "urgent", "replica lag", key: "lag"),
            Alert("web2", "irc", "new thing"), Alert("db1", "info", "backup done"), Alert("web3", "urgent", "down"),
        };
        foreach (var a in fresh) await h.Intake.AcceptAsync(a, "test");

        await h.Db.WriteAsync(async (c, tx) =>
        {
            var read = ReadFresh(h, tx);
            var whole = (await c.QueryAsync<AlertRow>("SELECT * FROM alerts WHERE handled_at IS NULL ORDER BY id", transaction: tx)).ToList();
            Assert.Equal(whole.Select(a => a.Id), read.Select(a => a.Id));
            Assert.Equal(fresh.Length - 1, read.Count); // the unkeyed info alert is recorded at intake, handled already
            foreach (var (r, w) in read.Zip(whole))
            {
                Assert.Equal((w.ReceivedAt, w.Source, w.Host, w.Level, w.Message, w.DedupKey), (r.ReceivedAt, r.Source, r.Host, r.Level, r.Message, r.DedupKey));
                Assert.Equal((w.HandledAt, w.Disposition, w.CountdownId, w.DuplicateOf, w.Repeats, w.ResolvedAt), (r.HandledAt, r.Disposition, r.CountdownId, r.DuplicateOf, r.Repeats, r.ResolvedAt));
            }
            // Originals by text only (by key they come from OpenKeys): the urgent one with its countdown, the irc one without.
            var original = (await c.QueryAsync<AlertRow>("SELECT * FROM alerts WHERE handled_at IS NOT NULL AND duplicate_of IS NULL AND level <> 'info' ORDER BY id", transaction: tx))
                .ToDictionary(a => (a.Host, a.Message));
            var disk = original[("web1", "disk full")];
            Assert.NotNull(disk.CountdownId);
            Assert.Equal((disk.Id, disk.CountdownId), (read[0].HandledOriginal, read[0].HandledOriginalCountdown));
            Assert.Equal((original[("web1", "load high")].Id, (long?)null), (read[1].HandledOriginal, read[1].HandledOriginalCountdown));
            Assert.All(read.Skip(2), r => Assert.Equal(((long?)null, (long?)null), (r.HandledOriginal, r.HandledOriginalCountdown)));
        });
    }

    private static List<AlertRow> ReadFresh(EngineHarness h, System.Data.IDbTransaction tx) =>
        Larsbot.Storage.PreparedStatements.Rows(h.Db.Statement(tx, RepeatsModule.FreshAlertsSqliteSql, "$window", "$after", "$through"),
            static r => r.GetRowParser<AlertRow>(), 600_000L, 0L, 1_000_000L);

    private static AlertInput Alert(string host, string level, string message, string? key = null) => new(host, level, message) { Key = key };
}
