using System.Diagnostics;
using Larsbot.Roster;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Roster;

/// <summary>People identified by nick alone are allowed but weak: `larsbot check` and the start say so, by name.</summary>
public sealed class RosterWarningsTests
{
    private const string NickOnlyRoster = """
        {"ledger": {"currency": "AUD", "stipendPerDay": 40, "pageBonus": 20, "timeZone": "UTC"}, "people": [
        """ + RosterIdentityTests.People + """
        , {"id": "kim", "name": "Kim Lee", "nicks": ["kim", "kim_"], "timeZone": "UTC", "phone": "+61400000009"}]}
        """;

    private const string Expected = "warning: roster: neilj (nicks neilj), kim (nicks kim, kim_) are identified by nick alone: anyone can take " +
        "that nick, join the channel and ack or take duty as them. Add \"accounts\" (their services/NickServ account, e.g. \"accounts\": " +
        "[\"neilj\"]) or \"hostmasks\" (e.g. \"hostmasks\": [\"*!neilj@*.example.com\"]) to each.";

    [Fact]
    public void The_sample_roster_names_everyone_by_account_and_hostmask_and_its_local_masks_fit_the_test_clients()
    {
        var sample = TestRoster.Sample();
        Assert.Empty(RosterWarnings.For(sample));
        Assert.All(sample.People, p => Assert.True(p.Accounts.Count > 0 && p.Hostmasks.Count > 0, p.Id));
        // ngircd (no ident, no DNS) shows the tests' clients and run-local.sh's irssi as nick!~user@127.0.0.1.
        Assert.Equal(("brong", "hostmask"), Who(sample.Identify("brong_", "~brong_", "127.0.0.1", null)));
        Assert.Equal(("robn", "hostmask"), Who(sample.Identify("robn", "~root", "127.0.0.1", null)));
        Assert.Equal(("brong", "unverified"), Who(sample.Identify("brong", "~brong", "203.0.113.7", null)));
        Assert.Null(sample.Identify("mallory", "~brong", "127.0.0.1", null).Person);
    }

    private static (string?, string) Who(Identification i) => (i.Person?.Id, i.How);

    [Fact]
    public void Nick_only_people_are_named_in_one_warning_with_the_fix()
    {
        Assert.Equal([Expected["warning: ".Length..]], RosterWarnings.For(RosterLoader.Parse(NickOnlyRoster)));
    }

    [Fact]
    public async Task Larsbot_check_prints_the_warning_and_still_passes()
    {
        using var db = new TempDatabase();
        var roster = Path.Combine(db.Dir, "roster.json");
        await File.WriteAllTextAsync(roster, NickOnlyRoster);
        var (code, stdout) = await CheckAsync(db, roster);
        Assert.Equal(0, code);
        Assert.Equal([Expected, "ok: configuration and roster valid (4 people)"], stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        (code, stdout) = await CheckAsync(db, Path.Combine(RepoPaths.Root, "roster.sample.json"));
        Assert.Equal(0, code);
        Assert.Equal("ok: configuration and roster valid (3 people)\n", stdout);
    }

    [Fact]
    public async Task Larsbot_run_logs_the_warning_at_start()
    {
        await using var rig = await BotRig.StartAsync();
        var roster = Path.Combine(rig.Db.Dir, "roster.json");
        await File.WriteAllTextAsync(roster, NickOnlyRoster);
        rig.Settings["Roster:Path"] = roster;
        rig.Settings["Intake:TcpPort"] = "-1";
        await using var bot = BotProcess.Start(rig.Settings, Ports.Free(), rig.Db.Dir);
        await bot.WaitReadyAsync(TimeSpan.FromSeconds(30));
        Assert.Contains(Expected["warning: ".Length..], bot.Output);
    }

    /// <summary>The real `larsbot check` (the larsbot.dll beside the tests), configured through LARSBOT_ variables.</summary>
    private static async Task<(int Code, string Stdout)> CheckAsync(TempDatabase db, string roster)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "larsbot.dll"), "check" },
            WorkingDirectory = db.Dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["LARSBOT_Roster__Path"] = roster;
        foreach (var (key, value) in db.Settings()) psi.Environment["LARSBOT_" + key.Replace(":", "__")] = value;
        psi.Environment["LARSBOT_Intake__TcpPort"] = "-1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
        Assert.True(string.IsNullOrEmpty(await stderr), await stderr);
        return (p.ExitCode, (await stdout).Replace("\r", ""));
    }
}
