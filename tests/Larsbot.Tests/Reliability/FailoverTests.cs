using System.Diagnostics;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Xunit.Abstractions;

namespace Larsbot.Tests.Reliability;

/// <summary>
/// Leader + standby on one PostgreSQL database (provider-specific: PostgreSQL only). kill -9 of the leader at 20
/// moments across the countdown, the first page, the wait and the everybody page, with the lease at its defaults
/// (5 s, renewed every second): the standby takes over within 10 s of the kill, says so in the channel, and every due
/// page reaches the provider once; a page sent twice must be one the database records as interrupted mid-send (the
/// one window: killed between "sending" and "sent").
/// </summary>
[Trait("Provider", "postgres")]
public sealed class FailoverTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(40);
    private const int Parallel = 3;

    private sealed record Outcome(string Point, double TakeoverSeconds, int Requests, int Duplicates, int Interrupted, string Said);

    [Fact]
    public async Task The_standby_takes_over_from_a_leader_killed_at_20_moments_and_every_page_arrives_once()
    {
        // Milliseconds after the alert's 202: countdown (0-2 s), first page (~2 s), waiting (2-4 s), everybody (~4 s).
        int[] points = [0, 300, 900, 1500, 1900, 1980, 2000, 2030, 2150, 2500, 3000, 3500, 3950, 4000, 4040, 4100, 4300, 4600, 5000, 6000];
        using var gate = new SemaphoreSlim(Parallel);
        var outcomes = await Task.WhenAll(points.Select(async (ms, i) =>
        {
            await gate.WaitAsync();
            try
            {
                // Half the alerts go to the standby: a load balancer may send them to either.
                return await KilledAsync(ms, toStandby: i % 2 == 1);
            }
            finally
            {
                gate.Release();
            }
        }));

        foreach (var o in outcomes)
            output.WriteLine($"kill at {o.Point}: takeover {o.TakeoverSeconds:0.0} s, {o.Requests}/{SharedDatabase.ExpectedPages.Length} requests, " +
                             $"duplicates {o.Duplicates} (interrupted sends {o.Interrupted}); said: {o.Said}");
        var takeovers = outcomes.Select(o => o.TakeoverSeconds).Order().ToList();
        output.WriteLine($"takeover after kill -9: median {takeovers[takeovers.Count / 2]:0.0} s, max {takeovers[^1]:0.0} s over {takeovers.Count} runs");
        Assert.All(outcomes, o => Assert.True(o.TakeoverSeconds <= 10, $"{o.Point}: takeover took {o.TakeoverSeconds:0.0} s"));
        Assert.All(outcomes, o => Assert.Equal(SharedDatabase.ExpectedPages.Length, o.Requests - o.Duplicates));
        Assert.Equal(0, outcomes.Sum(o => Math.Max(0, o.Duplicates - o.Interrupted)));
    }

    private async Task<Outcome> KilledAsync(int killAfterMs, bool toStandby)
    {
        var name = $"f{killAfterMs}";
        await using var ha = await SharedDatabase.StartAsync(name);
        await using var providers = await FakeProviders.StartAsync();
        var leader = await ha.StartBotAsync(ha.Settings("ops1", providers));
        await SharedDatabase.WaitRoleAsync(leader, "leader", Wait);
        var standby = await ha.StartBotAsync(ha.Settings("ops2", providers));
        await SharedDatabase.WaitRoleAsync(standby, "standby", Wait);
        await using var watcher = await RawIrcClient.ConnectAsync(ha.Irc.Port, "w" + name);
        await watcher.JoinAsync(ha.Channel);

        var r = await SharedDatabase.PostUrgentAsync(toStandby ? standby : leader);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, r.StatusCode);
        if (killAfterMs > 0) await Task.Delay(killAfterMs);
        leader.Kill();
        var killed = Stopwatch.StartNew();
        await SharedDatabase.WaitRoleAsync(standby, "leader", Wait);
        var takeover = killed.Elapsed.TotalSeconds;

        var said = await watcher.WaitForLineAsync(l => l.Contains(":taking over from ops1 (gone "), Wait);
        // Done when the first page and the everybody page are all recorded as sent.
        await Eventually.TrueAsync(async () => await ha.ScalarAsync<long>("SELECT COUNT(*) FROM pages WHERE state = 'sent'") == 7, Wait,
            $"{name}: pages not all sent:\n{standby.Output}");
        var interrupted = (int)await ha.ScalarAsync<long>("SELECT COUNT(*) FROM page_attempts WHERE outcome = 'interrupted'");
        var seen = SharedDatabase.Pages(providers);
        foreach (var e in SharedDatabase.ExpectedPages) Assert.Contains(e, seen);
        Assert.All(seen, s => Assert.Contains(s, SharedDatabase.ExpectedPages));
        return new Outcome($"{killAfterMs} ms{(toStandby ? " (alert via the standby)" : "")}", takeover, seen.Count,
            seen.Count - seen.Distinct().Count(), interrupted, said[(said.IndexOf(":taking", StringComparison.Ordinal) + 1)..]);
    }
}
