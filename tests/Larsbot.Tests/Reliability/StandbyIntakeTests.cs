using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Xunit.Abstractions;

namespace Larsbot.Tests.Reliability;

/// <summary>
/// Every instance takes alerts (PostgreSQL only): a load balancer may send to the standby, over HTTP or TCP, and the
/// leader announces them as fast as its own, woken by the standby's NOTIFY rather than its 30 s look.
/// </summary>
[Trait("Provider", "postgres")]
public sealed class StandbyIntakeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_standby_takes_alerts_over_HTTP_and_TCP_and_the_leader_announces_them_at_once()
    {
        await using var ha = await SharedDatabase.StartAsync("intake", onDuty: false);
        await using var providers = await FakeProviders.StartAsync();
        var leader = await ha.StartBotAsync(ha.Settings("ops1", providers));
        await SharedDatabase.WaitRoleAsync(leader, "leader", Wait);
        var settings = ha.Settings("ops2", providers);
        var tcpPort = Ports.Free();
        settings["Intake:TcpPort"] = tcpPort.ToString();
        var standby = await ha.StartBotAsync(settings);
        await SharedDatabase.WaitRoleAsync(standby, "standby", Wait);
        await using var watcher = await RawIrcClient.ConnectAsync(ha.Irc.Port, "wintake");
        await watcher.JoinAsync(ha.Channel);

        var sw = Stopwatch.StartNew();
        var r = await standby.Http.PostAsync("/alerts", new FormUrlEncodedContent(new Dictionary<string, string>
            { ["host"] = "web1", ["level"] = "irc", ["message"] = "via http" }));
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        await watcher.WaitForLineAsync(l => l.Contains("web1") && l.Contains("via http"), Wait);
        var http = sw.Elapsed;

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, tcpPort);
        var stream = tcp.GetStream();
        sw.Restart();
        await stream.WriteAsync(Encoding.UTF8.GetBytes("irc web2 via tcp\n"));
        var reply = await new StreamReader(stream).ReadLineAsync();
        Assert.StartsWith("OK ", reply);
        await watcher.WaitForLineAsync(l => l.Contains("web2") && l.Contains("via tcp"), Wait);
        var overTcp = sw.Elapsed;

        output.WriteLine($"posted to the standby, said by the leader after: HTTP {http.TotalMilliseconds:0} ms, TCP {overTcp.TotalMilliseconds:0} ms");
        // The leader's engine looks by itself only every 30 s: well under that means the standby's commit woke it.
        Assert.True(http < TimeSpan.FromSeconds(5) && overTcp < TimeSpan.FromSeconds(5), $"HTTP {http}, TCP {overTcp}");
        Assert.Equal("standby", await SharedDatabase.RoleAsync(standby));
    }
}
