using Larsbot.Hosting;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Hosting;

/// <summary>The command line as Program.cs runs it (Cli.InvokeAsync), in process, with its output captured.</summary>
public class CliTests
{
    private static async Task<(int Code, string Stdout, string Stderr)> LarsbotAsync(params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = await Cli.InvokeAsync(args, stdout, stderr);
        return (code, stdout.ToString().Replace("\r", ""), stderr.ToString().Replace("\r", ""));
    }

    [Fact]
    public async Task Help_lists_every_command_with_what_it_does()
    {
        foreach (var asked in new[] { new[] { "--help" }, ["-h"], ["help"] })
        {
            var (code, stdout, stderr) = await LarsbotAsync(asked);
            Assert.Equal(0, code);
            Assert.Equal("", stderr);
            Assert.Contains("larsbot [command] [options]", stdout);
            Assert.Contains("--config <FILE>", stdout);
            foreach (var line in new[] { "run      start the bot", "check    validate the configuration", "arbiter  the watchdog",
                         "payout   print or write a month's payout report", "ledger   the on-call ledger",
                         "db       the bot's database: copy a SQLite file's history into PostgreSQL" })
                Assert.Contains(line, stdout);
        }
    }

    [Fact]
    public async Task Each_command_has_its_own_help()
    {
        var payout = await LarsbotAsync("payout", "--help");
        Assert.Equal(0, payout.Code);
        foreach (var option in new[] { "--month <YYYY-MM>", "--format <md|csv|html>", "--out <FILE>", "--config <FILE>" })
            Assert.Contains(option, payout.Stdout);
        var arbiter = await LarsbotAsync("help", "arbiter");
        Assert.Equal(0, arbiter.Code);
        Assert.Contains("--target <URL>", arbiter.Stdout);
        Assert.Contains("--every <DURATION>", arbiter.Stdout);
        var verify = await LarsbotAsync("ledger", "verify", "--help");
        Assert.Contains("larsbot ledger verify [options]", verify.Stdout);
        Assert.Contains("exit 1 on any difference", verify.Stdout);
    }

    [Fact]
    public async Task An_unknown_command_or_option_is_a_usage_error()
    {
        Assert.Equal((64, "", "larsbot: unknown command 'frobnicate'. Try: larsbot --help\n"), await LarsbotAsync("frobnicate"));
        var option = await LarsbotAsync("check", "--verbose");
        Assert.Equal(64, option.Code);
        Assert.StartsWith("larsbot: unknown option '--verbose' for 'larsbot check'", option.Stderr);
        var word = await LarsbotAsync("check", "everything");
        Assert.Equal(64, word.Code);
        Assert.StartsWith("larsbot: unexpected argument 'everything' for 'larsbot check'", word.Stderr);
        var noValue = await LarsbotAsync("payout", "--month");
        Assert.Equal(64, noValue.Code);
        Assert.Contains("--month", noValue.Stderr);
        Assert.Equal(64, (await LarsbotAsync("ledger")).Code);
        Assert.Equal(64, (await LarsbotAsync("check", "--Irc:Port")).Code); // an override without its value
    }

    [Fact]
    public async Task A_bad_configuration_stops_every_command_with_exit_2()
    {
        using var db = new TempDatabase();
        var missing = Path.Combine(db.Dir, "nope.json");
        foreach (var args in new[] { ["--config", missing], ["run", "-c", missing], ["check", "--config", missing],
                     ["payout", "--config", missing], ["ledger", "verify", "--config", missing], new[] { "arbiter", "--target", "http://127.0.0.1:1", "--config", missing } })
            Assert.Equal((2, "", $"larsbot: config file {missing} not found\n"), await LarsbotAsync(args));
        Assert.Equal((2, "", "larsbot: arbiter needs --target URL (the bot's health URL)\n"), await LarsbotAsync("arbiter"));
    }

    [Fact]
    public async Task Configuration_overrides_on_the_command_line_reach_the_host()
    {
        using var db = new TempDatabase();
        var roster = Path.Combine(db.Dir, "no-roster.json");
        // Both spellings of a section key: Roster:Path and Database__Path (read as Database:Path, as in LARSBOT_
        // variables); on PostgreSQL Database__Provider and Database__ConnectionString.
        string[] database = [.. db.Settings().SelectMany(kv => new[] { "--" + kv.Key.Replace(":", "__"), kv.Value! })];
        var (code, _, stderr) = await LarsbotAsync(["check", $"--Roster:Path={roster}", .. database, "--Intake:TcpPort", "-1"]);
        Assert.Equal(2, code);
        Assert.StartsWith($"larsbot: Roster:Path {roster} not found", stderr);

        var ok = await LarsbotAsync(["check", $"--Roster:Path={Path.Combine(RepoPaths.Root, "roster.sample.json")}", .. database,
            "--Intake:TcpPort", "-1"]);
        Assert.Equal(0, ok.Code);
        Assert.EndsWith("ok: configuration and roster valid (3 people)\n", ok.Stdout);
        // The database the overrides named is the one the host opened and migrated.
        if (!TempDatabase.OnPostgres) Assert.True(File.Exists(db.Path));
        Assert.True(await db.ScalarAsync<long>("SELECT COUNT(*) FROM schema_migrations") > 0);
    }

    [Fact]
    public async Task Invalid_options_found_when_the_bot_starts_also_exit_2()
    {
        using var db = new TempDatabase();
        var (code, _, stderr) = await LarsbotAsync(["run", $"--Roster:Path={Path.Combine(RepoPaths.Root, "roster.sample.json")}",
            .. db.Settings().Select(kv => $"--{kv.Key}={kv.Value}"), "--Intake:TcpPort=-1", $"--Intake:HttpUrl=http://127.0.0.1:{Ports.Free()}",
            "--Paging:Countdown=00:00:00"]);
        Assert.Equal(2, code);
        Assert.StartsWith("larsbot: Paging options are invalid", stderr);
    }
}
