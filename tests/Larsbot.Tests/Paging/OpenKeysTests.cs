using Dapper;
using Larsbot.Intake;
using Larsbot.Paging;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Paging;

/// <summary>
/// On SQLite the engine keeps the open keyed originals by key in memory (<see cref="OpenKeys"/>) instead of an index on
/// dedup_key. The file stays the truth: a new engine on the same file finds what an earlier one handled, a failed pass
/// makes it read the file again, a resolve takes its alert out, and no index keyed by the key is written any more.
/// </summary>
[Trait("Provider", "sqlite")]
public sealed class OpenKeysTests : IDisposable
{
    private readonly TempDatabase _db = TempDatabase.Sqlite();

    public void Dispose() => _db.Dispose();

    private static async Task<long> SendAsync(EngineHarness h, string host, string level, string message, string key)
    {
        var r = await h.Intake.AcceptAsync(new AlertInput(host, level, message) { Key = key }, "test");
        Assert.True(r.Ok, r.Error);
        return r.Id!.Value;
    }

    private static async Task ResolveAsync(EngineHarness h, string key)
    {
        var r = await h.Intake.RecordEventAsync("resolve", key, null, null, "test");
        Assert.True(r.Ok, r.Error);
    }

    private async Task<(string? Disposition, long? DuplicateOf, long? ResolvedAt)> RowAsync(long id) =>
        (await _db.QueryAsync<(string?, long?, long?)>("SELECT disposition, duplicate_of, resolved_at FROM alerts WHERE id = @id", new { id })).Single();

    [Fact]
    public async Task After_a_restart_a_repeat_counts_up_and_a_resolve_ends_the_original_from_before()
    {
        long original;
        using (var before = new EngineHarness(_db))
        {
            original = await SendAsync(before, "db1", "urgent", "disk full", "fp-disk");
            await before.Engine.RunDueAsync();
            Assert.Equal(("countdown", (long?)null, (long?)null), await RowAsync(original));
        }

        // A new process on the same file: its open keys come from the file.
        using var after = new EngineHarness(_db);
        Assert.False(after.Engine.OpenKeys!.Loaded);
        var repeat = await SendAsync(after, "db1", "urgent", "disk full", "fp-disk");
        await after.Engine.RunDueAsync();
        Assert.Equal(("repeat", (long?)original, (long?)null), await RowAsync(repeat));
        Assert.Equal(1, await _db.ScalarAsync<long>("SELECT COUNT(*) FROM countdowns"));
        Assert.Equal(1, await _db.ScalarAsync<long>("SELECT repeats FROM alerts WHERE id = @original", new { original }));
        Assert.Equal(1, after.Engine.OpenKeys.Count);

        await ResolveAsync(after, "fp-disk");
        await after.Engine.RunDueAsync();
        Assert.NotNull((await RowAsync(original)).ResolvedAt);
        Assert.Equal(0, after.Engine.OpenKeys.Count);
        Assert.Equal("acked", await _db.ScalarAsync<string>("SELECT state FROM countdowns"));

        // Resolved, it is no original any more: the same key starts a new alert.
        var again = await SendAsync(after, "db1", "urgent", "disk full", "fp-disk");
        await after.Engine.RunDueAsync();
        Assert.Equal("countdown", (await RowAsync(again)).Disposition);
    }

    [Fact]
    public async Task A_louder_alert_with_the_key_of_a_quieter_one_is_new_and_its_repeat_finds_it_after_a_restart()
    {
        long irc, urgent;
        using (var before = new EngineHarness(_db))
        {
            irc = await SendAsync(before, "db1", "irc", "disk at 85%", "fp-disk");
            await before.Engine.RunDueAsync();
            urgent = await SendAsync(before, "db1", "urgent", "disk at 97%", "fp-disk");
            await before.Engine.RunDueAsync();
            Assert.Equal(("announced", "countdown"), ((await RowAsync(irc)).Disposition, (await RowAsync(urgent)).Disposition));
        }
        using var after = new EngineHarness(_db);
        var quiet = await SendAsync(after, "db1", "irc", "disk at 86%", "fp-disk");
        var loud = await SendAsync(after, "db1", "urgent", "disk at 98%", "fp-disk");
        await after.Engine.RunDueAsync();
        // Each repeats the newest open original at least as loud: the irc one the urgent original, as the SQL did.
        Assert.Equal(urgent, (await RowAsync(quiet)).DuplicateOf);
        Assert.Equal(urgent, (await RowAsync(loud)).DuplicateOf);

        // A resolve by key ends both originals.
        await ResolveAsync(after, "fp-disk");
        await after.Engine.RunDueAsync();
        Assert.NotNull((await RowAsync(irc)).ResolvedAt);
        Assert.NotNull((await RowAsync(urgent)).ResolvedAt);
    }

    [Fact]
    public async Task A_failed_pass_forgets_the_keys_it_added_and_the_next_pass_reads_the_file()
    {
        using var h = new EngineHarness(_db);
        await SendAsync(h, "web1", "irc", "slow", "fp-web1");
        await h.Engine.RunDueAsync();
        Assert.True(h.Engine.OpenKeys!.Loaded);

        var added = await SendAsync(h, "web2", "irc", "slow", "fp-web2");
        await SendAsync(h, "web3", "irc", "slow", "fp-web3");
        // The disk refuses the pass's write of the second alert, after the first was added to the open keys.
        await _db.ExecuteAsync("CREATE TRIGGER refuse BEFORE UPDATE OF handled_at ON alerts WHEN NEW.host = 'web3' BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => h.Engine.RunDueAsync());
        Assert.False(h.Engine.OpenKeys.Loaded);
        Assert.Null(await _db.ScalarAsync<long?>("SELECT handled_at FROM alerts WHERE id = @added", new { added }));

        await _db.ExecuteAsync("DROP TRIGGER refuse");
        var repeat = await SendAsync(h, "web2", "irc", "slow", "fp-web2");
        await h.Engine.RunDueAsync();
        Assert.Equal("announced", (await RowAsync(added)).Disposition);
        Assert.Equal(("repeat", (long?)added, (long?)null), await RowAsync(repeat));
        Assert.Equal(3, h.Engine.OpenKeys.Count);
    }

    // Passes take a slice of MaxAlertsPerPass each; a bounded number of them, so a mark that never moves fails, not hangs.
    private static async Task RunUntilHandledAsync(EngineHarness h, long lastId)
    {
        for (var pass = 0; pass < 100 && h.Engine.Mark.Id < lastId; pass++) await h.Engine.RunDueAsync();
        Assert.True(h.Engine.Mark.Id >= lastId, $"the engine handled up to {h.Engine.Mark.Id}, not {lastId}");
    }

    [Fact]
    public async Task Thousands_of_keys_spread_over_the_parts_each_repeat_finds_its_original_and_each_resolve_takes_it_out()
    {
        const int keys = 3000;
        using var h = new EngineHarness(_db);
        var originals = new long[keys];
        for (var i = 0; i < keys; i++) originals[i] = await SendAsync(h, $"web{i % 40}", "irc", "slow", $"fp-{i:x8}");
        await RunUntilHandledAsync(h, originals[^1]);
        var open = h.Engine.OpenKeys!;
        Assert.Equal(keys, open.Count);
        var parts = open.PartSizes;
        Assert.Equal(OpenKeys.Parts, parts.Length);
        Assert.Equal(keys, parts.Sum());
        Assert.True(parts.Max() < keys / 10, $"one part holds {parts.Max()} of {keys} keys");

        var repeats = new Dictionary<int, long>();
        for (var i = 0; i < keys; i += 7) repeats[i] = await SendAsync(h, $"web{i % 40}", "irc", "slow", $"fp-{i:x8}");
        await RunUntilHandledAsync(h, repeats.Values.Max());
        foreach (var (i, repeat) in repeats) Assert.Equal(("repeat", (long?)originals[i], (long?)null), await RowAsync(repeat));

        for (var i = 0; i < keys; i++) await ResolveAsync(h, $"fp-{i:x8}");
        for (var pass = 0; pass < 100 && open.Count > 0; pass++) await h.Engine.RunDueAsync();
        Assert.Equal(0, await _db.ScalarAsync<long>("SELECT COUNT(*) FROM alerts WHERE dedup_key IS NOT NULL AND resolved_at IS NULL AND duplicate_of IS NULL"));
        Assert.Equal(0, open.Count);
    }

    [Fact]
    public async Task Handling_a_new_keyed_alert_writes_no_index_keyed_by_its_key()
    {
        // Keys are fingerprints: an index on them put every new alert on a random page, a page in the WAL each.
        using var h = new EngineHarness(_db);
        for (var i = 0; i < 50; i++) await SendAsync(h, $"web{i}", "irc", "slow", $"fp-{i}");
        await h.Engine.RunDueAsync();
        var keyed = await _db.QueryAsync<string>(
            "SELECT DISTINCT m.name FROM sqlite_master m, pragma_index_info(m.name) i WHERE m.type = 'index' AND m.tbl_name = 'alerts' AND i.name = 'dedup_key'");
        Assert.Empty(keyed);
        Assert.Equal(50, await _db.ScalarAsync<long>(
            "SELECT COUNT(*) FROM alerts INDEXED BY alerts_open_keyed WHERE dedup_key IS NOT NULL AND handled_at IS NOT NULL AND resolved_at IS NULL AND duplicate_of IS NULL"));
        Assert.Equal(50, h.Engine.OpenKeys!.Count);
    }

    [Fact]
    public async Task The_key_scope_check_finds_the_hosts_of_a_key_before_during_and_after_the_engine_handles_it()
    {
        using var h = new EngineHarness(_db);
        await SendAsync(h, "db1", "irc", "disk full", "fp-disk");
        Assert.Equal(["db1"], await h.Intake.OpenHostsOfKeyAsync("fp-disk")); // not handled yet: above the mark
        await h.Engine.RunDueAsync();
        Assert.Equal(["db1"], await h.Intake.OpenHostsOfKeyAsync("fp-disk")); // handled: from the open keys
        Assert.Empty(await h.Intake.OpenHostsOfKeyAsync("fp-other"));

        h.Engine.OpenKeys!.Invalidate(); // as after a failed pass: the file answers until the next pass loads them
        Assert.Equal(["db1"], await h.Intake.OpenHostsOfKeyAsync("fp-disk"));

        await ResolveAsync(h, "fp-disk");
        await h.Engine.RunDueAsync();
        Assert.Empty(await h.Intake.OpenHostsOfKeyAsync("fp-disk"));
    }

    [Fact]
    public async Task An_original_another_connection_wrote_is_found_by_the_next_pass()
    {
        // Two bots on one file by mistake, or an operator's sqlite3: the file changed under the engine's open keys.
        using var h = new EngineHarness(_db);
        await SendAsync(h, "web1", "irc", "slow", "fp-web1");
        await h.Engine.RunDueAsync();
        // Its own commits (intake's, the engine's) do not make it read the file again.
        await SendAsync(h, "web2", "irc", "slow", "fp-web2");
        await h.Engine.RunDueAsync();
        Assert.Equal(1, h.Engine.OpenKeys!.Loads);
        var other = await _db.ScalarAsync<long>(
            "INSERT INTO alerts(received_at, source, host, level, message, dedup_key, handled_at, disposition) " +
            "VALUES (1, 'other', 'db1', 'urgent', 'disk full', 'fp-disk', 1, 'countdown') RETURNING id");

        var repeat = await SendAsync(h, "db1", "urgent", "disk full", "fp-disk");
        await h.Engine.RunDueAsync();
        Assert.Equal(("repeat", (long?)other, (long?)null), await RowAsync(repeat));
        Assert.Equal(2, h.Engine.OpenKeys.Loads);
        Assert.Equal(3, h.Engine.OpenKeys.Count);
    }

    [Fact]
    public async Task A_write_elsewhere_that_fails_for_its_own_reason_does_not_make_the_engine_read_every_open_key_again()
    {
        // Every open key is read from the file again on a fresh writer connection, while the pass holds the writer and
        // intake waits: 1.5 s in a storm of a million alerts. The delivery poll did that every 30 s against a provider
        // stub that gave every SMS one sid (its report matched two pages: an InvalidOperationException, taken for a
        // disk fault).
        using var h = new EngineHarness(_db);
        await SendAsync(h, "db1", "urgent", "disk full", "fp-disk");
        await h.Engine.RunDueAsync();
        Assert.Equal(1, h.Engine.OpenKeys!.Loads);

        await Assert.ThrowsAsync<InvalidOperationException>(() => h.Db.WriteAsync<long>((c, tx) =>
            c.QuerySingleAsync<long>("SELECT id FROM alerts UNION ALL SELECT id FROM alerts", transaction: tx)));

        var repeat = await SendAsync(h, "db1", "urgent", "disk full", "fp-disk");
        await h.Engine.RunDueAsync();
        Assert.Equal("repeat", (await RowAsync(repeat)).Disposition);
        Assert.Equal(1, h.Engine.OpenKeys.Loads);

        // A fault of the connection itself still gets a fresh writer, and the keys are read from the file again.
        await Assert.ThrowsAsync<InvalidOperationException>(() => h.Db.WriteAsync<long>((c, _) =>
        {
            c.Close();
            throw new InvalidOperationException("the connection is broken");
        }));
        var another = await SendAsync(h, "db1", "urgent", "disk full", "fp-disk");
        await h.Engine.RunDueAsync();
        Assert.Equal("repeat", (await RowAsync(another)).Disposition);
        Assert.Equal(2, h.Engine.OpenKeys.Loads);
    }
}
