using Larsbot.Commands;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Paging;

/// <summary>`lars shush`: matching alerts are recorded and shown but never page; `lars status` lists silences.</summary>
public class SilenceTests
{
    private static async Task<(EngineHarness H, SilenceCommands Commands)> SetupAsync()
    {
        var h = new EngineHarness();
        await h.TakeDutyAsync("brong", "brong");
        h.Channel.Take();
        return (h, new SilenceCommands(h.Silences, h.Outbox));
    }

    private static Task<bool> SayAsync(SilenceCommands cmd, EngineHarness h, string line) =>
        cmd.TryRunAsync("brong", h.Roster.FindById("brong")!, line.ToLowerInvariant(), "lars " + line);

    [Fact]
    public async Task Silenced_hosts_are_shown_but_never_page_until_the_shush_ends()
    {
        var (h, cmd) = await SetupAsync();
        using var _ = h;
        Assert.True(await SayAsync(cmd, h, "shush DB* 2h Kernel upgrades"));
        Assert.Equal(["shush #1: alerts for 'DB*' are shown but never page until 2026-11-23 05:00 UTC (2h 0m): Kernel upgrades. 'lars unshush 1' ends it."],
            h.Channel.Take());

        await h.AlertAsync("db1", "down");
        await h.AlertAsync("web1", "down");
        await h.AlertAsync("db2", "backup done", "info");
        await h.Engine.RunDueAsync();
        var said = h.Channel.Take();
        Assert.Equal("silenced urgent db1 - down (shush #1 by brong, 2h 0m left)", said[0]);
        Assert.Equal("URGENT web1 - down", said[1]);
        await h.AdvanceAsync(TimeSpan.FromMinutes(10));
        var pages = await h.PagesAsync();
        Assert.All(pages, p => Assert.StartsWith("web1: down", p.Body));
        Assert.DoesNotContain(pages, p => p.Body.Contains("db1"));

        var status = await h.Status.StatusAsync();
        Assert.Contains("status: shush #1 'DB*' by brong, 110 minutes left: Kernel upgrades", status);

        // After the shush runs out, the host pages again.
        await h.AdvanceAsync(TimeSpan.FromHours(2));
        await h.AckAsync("brong");
        h.Channel.Take();
        await h.AdvanceAsync(h.Options.AckModeFor);
        await h.AlertAsync("db1", "down again");
        await h.Engine.RunDueAsync();
        Assert.Contains("URGENT db1 - down again", h.Channel.Take());
    }

    [Fact]
    public async Task Unshush_ends_it_and_bad_input_gets_the_usage()
    {
        var (h, cmd) = await SetupAsync();
        using var _ = h;
        await SayAsync(cmd, h, "shush web1 30m");
        h.Channel.Take();
        await SayAsync(cmd, h, "unshush 1");
        Assert.Equal(["unshush: #1 ('web1') ended by brong; its alerts page again"], h.Channel.Take());
        await SayAsync(cmd, h, "unshush 1");
        Assert.Equal(["brong: there is no active shush #1"], h.Channel.Take());
        await h.AlertAsync("web1", "down");
        await h.Engine.RunDueAsync();
        Assert.Equal(["URGENT web1 - down"], h.Channel.Take());

        await SayAsync(cmd, h, "shush web1 soon");
        Assert.StartsWith("brong: say 'lars shush", Assert.Single(h.Channel.Take()));
        await SayAsync(cmd, h, "shush * 1h");
        Assert.Equal(["brong: '*' would silence every host; name a host or a pattern like db*, or add --all if you mean every host."], h.Channel.Take());
        await SayAsync(cmd, h, "shush web1 8d");
        Assert.Equal(["brong: a shush lasts at most 7 days."], h.Channel.Take());
        Assert.False(await cmd.TryRunAsync("brong", h.Roster.FindById("brong")!, "ack", "lars ack"));
    }

    [Fact]
    public async Task A_pattern_hiding_every_known_host_needs_all()
    {
        var (h, cmd) = await SetupAsync();
        using var _ = h;
        foreach (var host in new[] { "db1", "db2", "web1", "db1" }) await h.AlertAsync(host, "disk");
        await h.Engine.RunDueAsync();
        await h.AckAsync("brong");
        h.Channel.Take();

        // Not pure wildcards, but it matches db1, db2 and web1: everything the bot has heard of.
        await SayAsync(cmd, h, "shush *b* 2h kernel upgrades");
        Assert.Equal(["brong: '*b*' matches all 3 hosts seen in recent alerts and would hide every one of them; " +
                      "name fewer, or say 'lars shush *b* 2h --all kernel upgrades' if you mean it."], h.Channel.Take());
        await SayAsync(cmd, h, "shush *B? 2h"); // db1 db2 web1: patterns match case-insensitively
        Assert.StartsWith("brong: '*B?' matches all 3 hosts", Assert.Single(h.Channel.Take()));
        Assert.Empty(await h.Db.ReadAsync(c => Dapper.SqlMapper.QueryAsync<long>(c, "SELECT id FROM silences")));

        // Fewer hosts: as before.
        await SayAsync(cmd, h, "shush db* 2h");
        Assert.StartsWith("shush #1: alerts for 'db*'", Assert.Single(h.Channel.Take()));
        // Meant: --all anywhere after the command word.
        await SayAsync(cmd, h, "shush *b* 2h --all kernel upgrades");
        Assert.Equal(["shush #2: alerts for '*b*' are shown but never page until 2026-11-23 05:00 UTC (2h 0m): kernel upgrades. 'lars unshush 2' ends it."],
            h.Channel.Take());
        await SayAsync(cmd, h, "shush --all * 1h");
        Assert.StartsWith("shush #3: alerts for '*'", Assert.Single(h.Channel.Take()));
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("1h30m", 5400)]
    [InlineData("1d", 86400)]
    public void Durations_parse(string text, int seconds) => Assert.Equal(TimeSpan.FromSeconds(seconds), SilenceCommands.ParseDuration(text));

    [Theory]
    [InlineData("")]
    [InlineData("0m")]
    [InlineData("soon")]
    [InlineData("-5m")]
    public void Non_durations_do_not_parse(string text) => Assert.Null(SilenceCommands.ParseDuration(text));
}
