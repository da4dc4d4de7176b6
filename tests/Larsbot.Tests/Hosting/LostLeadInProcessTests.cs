using Larsbot.Hosting;
using Larsbot.Leadership;
using Larsbot.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Larsbot.Tests.Hosting;

/// <summary>
/// A leader built into another process (these tests: the bot in the test host, on PostgreSQL) that loses its lease stops
/// its host and leaves that process alone: exit code 75 and the hard _exit 5 s later are <c>larsbot run</c>'s only
/// (PartitionAndRestartTests checks them on the real executable). Once they were armed by every host, and a renewal
/// held up past the lease on a loaded CI machine ended the whole test run with no stack trace.
/// </summary>
[Trait("Provider", "postgres")]
public sealed class LostLeadInProcessTests
{
    [Fact]
    public async Task An_in_process_leader_that_loses_its_lease_stops_its_host_and_leaves_the_process_exit_code_alone()
    {
        using var db = TempDatabase.Postgres();
        var settings = new Dictionary<string, string?>(db.Settings())
        {
            ["Leadership:Name"] = "inproc",
            ["Roster:Path"] = Path.Combine(RepoPaths.Root, "roster.sample.json"),
            ["Irc:Server"] = "127.0.0.1",
            ["Irc:Port"] = Ports.Free().ToString(), // nothing listens: the bot keeps trying, which does not matter here
            ["Intake:HttpUrl"] = "http://127.0.0.1:0",
            ["Intake:TcpPort"] = "-1",
            ["Logging:LogLevel:Default"] = "Critical",
        };
        var exitCodeBefore = Environment.ExitCode;
        await using var app = LarsbotHost.Build([], configFile: null, overrides: settings);
        var role = app.Services.GetRequiredService<Role>();
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());
        var lost = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        role.LostLeadership += why => lost.TrySetResult(why);
        await app.StartAsync();
        await role.Led.WaitAsync(TimeSpan.FromSeconds(30));

        // Another instance takes the lease (as one would after this leader's renewals stalled): it is no longer this leader's.
        Assert.Equal(1, await db.ExecuteAsync(
            "UPDATE leader_lease SET holder = 'someone-else', expires_at = expires_at + 600000 WHERE id = 1"));

        // (Found by the next renewal or by the next fenced write, whichever comes first.)
        Assert.Contains("lease", await lost.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        await stopping.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // The exit code and the delayed _exit are armed together (LarsbotHost.ExitWhenTheLeadIsLost): an exit code left
        // alone is a process nobody will _exit.
        Assert.Equal(exitCodeBefore, Environment.ExitCode);
        await app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }
}
