using System.Diagnostics;
using System.Net;
using Dapper;
using Larsbot.Hosting;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Npgsql;
using Xunit.Abstractions;

namespace Larsbot.Tests.Reliability;

/// <summary>
/// Leader + standby when the database link fails rather than a process (PostgreSQL only): a leader cut off from the
/// database stops sending before the standby starts; the database restarted under both loses no alert and answers
/// no 202 for an alert it did not store. These run larsbot.dll on the JIT; FailoverTests runs the native executable.
/// </summary>
[Trait("Provider", "postgres")]
public sealed class PartitionAndRestartTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task A_leader_cut_off_from_the_database_stops_sending_before_the_standby_starts()
    {
        await using var ha = await SharedDatabase.StartAsync("cut");
        // Each instance has its own provider stand-ins, so every request says who sent it and when.
        await using var leaderProviders = await FakeProviders.StartAsync();
        await using var standbyProviders = await FakeProviders.StartAsync();
        var port = new NpgsqlConnectionStringBuilder(ha.ConnectionString).Port;
        await using var link = new TcpProxy(port);
        var leaderSettings = ha.Settings("ops1", leaderProviders,
            new NpgsqlConnectionStringBuilder(ha.ConnectionString) { Port = link.Port }.ConnectionString);
        var leader = await ha.StartBotAsync(leaderSettings, native: false);
        await SharedDatabase.WaitRoleAsync(leader, "leader", Wait);
        var standby = await ha.StartBotAsync(ha.Settings("ops2", standbyProviders), native: false);
        await SharedDatabase.WaitRoleAsync(standby, "standby", Wait);
        await using var watcher = await RawIrcClient.ConnectAsync(ha.Irc.Port, "wcut");
        await watcher.JoinAsync(ha.Channel);

        // The leader pages brong (first page at 2 s); cut it off the moment that page reaches the provider, with the
        // everybody page 2 s away: mid-escalation.
        Assert.Equal(HttpStatusCode.Accepted, (await SharedDatabase.PostUrgentAsync(leader)).StatusCode);
        await leaderProviders.WaitForTwilioRequestAsync(1, Wait);
        link.Blackhole();
        var cut = DateTimeOffset.UtcNow;

        // The leader notices it cannot renew and stops itself; the standby takes the lease once it expires.
        Assert.True(await leader.WaitForExitAsync(Wait), "the cut-off leader kept running");
        Assert.Equal(LarsbotHost.LostLeadExitCode, leader.ExitCode);
        await SharedDatabase.WaitRoleAsync(standby, "leader", Wait);
        var started = DateTimeOffset.FromUnixTimeMilliseconds(
            await ha.ScalarAsync<long>("SELECT started_at FROM leader_terms WHERE holder = 'ops2'"));
        await watcher.WaitForLineAsync(l => l.Contains(":taking over from ops1 (gone "), Wait);
        await Eventually.TrueAsync(async () => await ha.ScalarAsync<long>("SELECT COUNT(*) FROM pages WHERE state = 'sent'") == 7, Wait,
            $"pages not all sent:\n{standby.Output}");

        var byLeader = leaderProviders.TwilioRequests.Concat(leaderProviders.PushoverRequests).Select(q => q.At).ToList();
        var byStandby = standbyProviders.TwilioRequests.Concat(standbyProviders.PushoverRequests).Select(q => q.At).ToList();
        output.WriteLine($"cut at {cut:HH:mm:ss.fff}; the leader's last request {byLeader.Max():HH:mm:ss.fff}; " +
                         $"the standby led from {started:HH:mm:ss.fff} (database clock), first request {byStandby.Min():HH:mm:ss.fff}; " +
                         $"{byLeader.Count} requests by the leader, {byStandby.Count} by the standby");
        Assert.True(byLeader.Max() < byStandby.Min(), "the cut-off leader sent after the standby had started sending");
        Assert.True(byLeader.Max() < started, "the cut-off leader sent after the standby took the lease");
        // Everything due was sent, between the two. Cut as the first page goes out, the leader may not get to record
        // it as sent: the standby finds it 'sending' and sends it again, counted as interrupted (the one window).
        var seen = SharedDatabase.Pages(leaderProviders, standbyProviders);
        Assert.Equal(SharedDatabase.ExpectedPages.Order(), seen.Distinct().Order());
        var interrupted = await ha.ScalarAsync<long>("SELECT COUNT(*) FROM page_attempts WHERE outcome = 'interrupted'");
        output.WriteLine($"{seen.Count - seen.Distinct().Count()} sent twice, {interrupted} recorded as interrupted mid-send");
        Assert.True(seen.Count - seen.Distinct().Count() <= interrupted, "a page went out twice outside the recorded window");
    }

    [Fact]
    public async Task The_database_restarted_under_both_loses_no_alert_and_every_202_was_stored()
    {
        await using var pg = PostgresServer.StartPrivate();
        await using var ha = await SharedDatabase.StartAsync("restart", await pg.CreateDatabaseAsync(), onDuty: false);
        await using var providers = await FakeProviders.StartAsync();
        var a = await ha.StartBotAsync(ha.Settings("ops1", providers));
        await SharedDatabase.WaitRoleAsync(a, "leader", Wait);
        var b = await ha.StartBotAsync(ha.Settings("ops2", providers));
        await SharedDatabase.WaitRoleAsync(b, "standby", Wait);

        // Alerts to both instances in turn, all through the restart, each with its own text.
        var accepted = new List<string>();
        var refused = new Dictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var sending = Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var message = $"check {n}";
                var bot = n % 2 == 0 ? a : b;
                string outcome;
                try
                {
                    // A host per alert, ten a second across both: under every per-host and per-caller limit.
                    using var r = await bot.Http.PostAsync("/alerts", new FormUrlEncodedContent(new Dictionary<string, string>
                        { ["host"] = $"h{n}", ["level"] = "irc", ["message"] = message }));
                    outcome = ((int)r.StatusCode).ToString();
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    outcome = "no answer";
                }
                lock (accepted)
                {
                    if (outcome == "202") accepted.Add(message);
                    else refused[outcome] = refused.GetValueOrDefault(outcome) + 1;
                }
                await Task.Delay(100);
            }
        });

        await Eventually.TrueAsync(() => { lock (accepted) return accepted.Count >= 20; }, Wait);
        var sw = Stopwatch.StartNew();
        pg.Stop();
        var before = accepted.Count;
        await Task.Delay(TimeSpan.FromSeconds(2));
        pg.Start();
        output.WriteLine($"database down for {sw.Elapsed.TotalSeconds:0.0} s");
        // Both instances store alerts again once it is back.
        await Eventually.TrueAsync(() => { lock (accepted) return accepted.Count >= before + 30; }, Wait, "no 202 after the restart");
        await stop.CancelAsync();
        await sending;

        await using var c = new NpgsqlConnection(ha.ConnectionString);
        var stored = (await c.QueryAsync<string>("SELECT message FROM alerts WHERE message LIKE 'check %'")).ToList();
        output.WriteLine($"{accepted.Count} alerts accepted (202), {stored.Count} stored; refused: " +
                         string.Join(", ", refused.Select(kv => $"{kv.Value}x {kv.Key}")));
        Assert.True(refused.Count > 0, "the restart was not noticed at all: the test did not cover it");
        Assert.All(refused.Keys, k => Assert.Contains(k, new[] { "503", "no answer" }));
        // No 202 for an alert not stored, and nothing stored twice.
        Assert.Empty(accepted.Except(stored));
        Assert.Equal(stored.Count, stored.Distinct().Count());
        // Whoever leads now handles every stored alert: announced in the channel, none left behind.
        // Down longer than the lease's margin, the leader gives up (exit 75) and the standby leads once the lease expires.
        string?[] leaders = [];
        await Eventually.TrueAsync(async () =>
        {
            leaders = [await SharedDatabase.RoleAsync(a), await SharedDatabase.RoleAsync(b)];
            return leaders.Contains("leader");
        }, Wait, "nobody leads after the restart", TimeSpan.FromMilliseconds(200));
        output.WriteLine($"after the restart: ops1 {leaders[0] ?? (a.HasExited ? $"exited {a.ExitCode}" : "no answer")}, ops2 {leaders[1]}");
        await Eventually.TrueAsync(async () => await ha.ScalarAsync<long>("SELECT COUNT(*) FROM alerts WHERE handled_at IS NULL") == 0, Wait,
            "alerts left unhandled after the restart");
    }
}
