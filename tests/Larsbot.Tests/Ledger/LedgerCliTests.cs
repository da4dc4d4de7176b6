using Larsbot.Hosting;
using Larsbot.Ledger;
using Larsbot.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Larsbot.Tests.Ledger;

/// <summary>
/// `larsbot payout` and `larsbot ledger verify` over the October file, built the way Program.cs builds them (the
/// same configuration as `run`), with only the clock replaced so "today" is fixed.
/// </summary>
public class LedgerCliTests
{
    private static WebApplication Host(LedgerHarness h, string[] args) =>
        LarsbotHost.Build(args, configFile: null, overrides: new Dictionary<string, string?>(h.Engine.TempDb.Settings())
        {
            ["Roster:Path"] = Path.Combine(RepoPaths.Root, "roster.sample.json"),
            ["Intake:TcpPort"] = "-1",
        }, services: s => s.AddSingleton<TimeProvider>(h.Clock));

    [Fact]
    public async Task Payout_writes_each_format_to_the_file_asked_for()
    {
        using var h = await HandComputedMonthTests.LiveOctoberAsync();
        var parse = Cli.Commands().Parse(["payout", "--month", "2026-10", "--format", "csv", "--out", "x", "--Logging:LogLevel:Default", "Warning"]);
        var (_, rest) = Cli.HostArgs(parse);
        var options = LedgerCli.PayoutOptions(parse);
        Assert.Equal(["--Logging:LogLevel:Default", "Warning"], rest);
        Assert.Equal("csv", options["format"]);

        await using var app = Host(h, rest);
        foreach (var format in new[] { "md", "csv", "html" })
        {
            var file = Path.Combine(h.Engine.TempDb.Dir, "cli", $"october.{format}");
            var stdout = new StringWriter();
            var code = await LedgerCli.PayoutAsync(app.Services, new Dictionary<string, string> { ["month"] = "2026-10", ["out"] = file }, stdout, TextWriter.Null);
            Assert.Equal(0, code);
            Assert.Equal($"wrote {file}\n", stdout.ToString());
            // The CLI and the monthly job print the same ledger.
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(h.Options.ReportFolder, $"payout-2026-10.{format}")), await File.ReadAllTextAsync(file));
        }
    }

    [Fact]
    public async Task Payout_refuses_a_bad_month_or_format()
    {
        using var h = await HandComputedMonthTests.LiveOctoberAsync();
        await using var app = Host(h, []);
        var err = new StringWriter();
        Assert.Equal(64, await LedgerCli.PayoutAsync(app.Services, new Dictionary<string, string> { ["month"] = "October" }, TextWriter.Null, err));
        Assert.Equal(64, await LedgerCli.PayoutAsync(app.Services, new Dictionary<string, string> { ["month"] = "2026-10", ["format"] = "pdf" }, TextWriter.Null, err));
        Assert.Equal("larsbot: --month 'October' is not YYYY-MM (e.g. 2026-11)\nlarsbot: --format 'pdf' is not one of md, csv, html\n", err.ToString());
    }

    [Fact]
    public async Task Ledger_verify_is_quiet_when_the_ledger_follows_from_the_rows_and_exits_1_when_it_does_not()
    {
        using var h = await HandComputedMonthTests.LiveOctoberAsync();
        await using var app = Host(h, []);
        var stdout = new StringWriter();
        Assert.Equal(0, await LedgerCli.VerifyAsync(app.Services, stdout));
        Assert.StartsWith("ok:", stdout.ToString());

        // A page the ledger has not heard of: neilj's unanswered page #5 is acked after all (rows edited by hand).
        await h.Engine.Db.WriteAsync((c, tx) => Dapper.SqlMapper.ExecuteAsync(c,
            "INSERT INTO acks(id, at, nick, person_id, alerts_acked) VALUES (100, 0, 'robn', 'robn', 1); UPDATE countdowns SET state = 'acked', ack_id = 100 WHERE id = 5", transaction: tx));
        stdout = new StringWriter();
        Assert.Equal(1, await LedgerCli.VerifyAsync(app.Services, stdout));
        Assert.Equal("""
            3 difference(s) between the ledger and the rules (the bot appends corrections when it next settles):
              2026-10-26 neilj dock_out page #5: ledger 0.00 (0 ms), rules give -40.00 (0 ms)
              2026-10-26 robn bonus_held page #5: ledger 0.00 (0 ms), rules give 20.00 (0 ms)
              2026-10-26 robn dock_in page #5: ledger 0.00 (0 ms), rules give 40.00 (0 ms)

            """, stdout.ToString());
    }
}
