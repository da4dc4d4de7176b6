using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Larsbot.Tests.Intake;

/// <summary>
/// Issue 15 items 3 and 6 on the line intake: one address cannot take every connection slot, a connection that never
/// authenticates is closed after the first-line timeout, and a browser's HTTP post to this port stores nothing.
/// </summary>
public sealed class TcpSlotsOverTheWireTests : BotsOnOneIrc
{
    private static async Task<TcpClient> ConnectAsync(int port, string from = "127.0.0.1")
    {
        var tcp = new TcpClient(new IPEndPoint(IPAddress.Parse(from), 0));
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        return tcp;
    }

    private static async Task<string?> ReadLineAsync(TcpClient tcp, TimeSpan within)
    {
        using var cts = new CancellationTokenSource(within);
        var reader = new StreamReader(tcp.GetStream(), Encoding.UTF8, false, 1024, leaveOpen: true);
        return await reader.ReadLineAsync(cts.Token);
    }

    [Fact]
    public async Task Idle_connections_from_one_address_cannot_lock_out_another_address()
    {
        var (bot, db) = await StartAsync(new() { ["Intake:TcpMaxConnections"] = "8", ["Intake:TcpMaxConnectionsPerAddress"] = "4" });
        var idle = new List<TcpClient>();
        try
        {
            // Forty idle sockets from 127.0.0.1 (the issue used 300 against 256 slots): four are held, the rest told.
            for (var i = 0; i < 40; i++) idle.Add(await ConnectAsync(bot.TcpPort));
            Assert.Equal("ERR too many connections from your address, try again", await ReadLineAsync(idle[4], TimeSpan.FromSeconds(5)));
            Assert.Equal("ERR too many connections from your address, try again", await ReadLineAsync(idle[39], TimeSpan.FromSeconds(5)));

            // Another sender, from another address, still gets in.
            using var other = await ConnectAsync(bot.TcpPort, from: "127.0.0.2");
            await other.GetStream().WriteAsync("urgent db1 replication stopped\n"u8.ToArray());
            Assert.Matches(@"^OK \d+$", await ReadLineAsync(other, TimeSpan.FromSeconds(5)));
            Assert.Equal(1, await ScalarAsync(db, "SELECT COUNT(*) FROM alerts"));
        }
        finally
        {
            foreach (var c in idle) c.Dispose();
        }
    }

    [Fact]
    public async Task A_connection_that_does_not_authenticate_in_time_is_closed_and_one_that_did_stays()
    {
        var settings = TwoTokens();
        settings["Intake:TcpFirstLineTimeout"] = "00:00:00.300";
        var (bot, db) = await StartAsync(settings);
        using var authed = await ConnectAsync(bot.TcpPort);
        await authed.GetStream().WriteAsync(Encoding.UTF8.GetBytes($"AUTH {Shared}\n"));
        Assert.Equal("OK auth", await ReadLineAsync(authed, TimeSpan.FromSeconds(5)));

        using var silent = await ConnectAsync(bot.TcpPort);
        Assert.Equal("ERR 408 no AUTH within 0.3 s of connecting", await ReadLineAsync(silent, TimeSpan.FromSeconds(5)));
        Assert.Null(await ReadLineAsync(silent, TimeSpan.FromSeconds(5))); // closed

        // The authenticated one, opened first, outlived the silent one's timeout and still takes alerts.
        await authed.GetStream().WriteAsync("irc db1 still here\n"u8.ToArray());
        Assert.Matches(@"^OK \d+$", await ReadLineAsync(authed, TimeSpan.FromSeconds(5)));
        Assert.Equal(1, await ScalarAsync(db, "SELECT COUNT(*) FROM alerts"));
    }

    [Fact]
    public async Task Without_tokens_a_connection_silent_past_the_timeout_is_closed()
    {
        var (bot, _) = await StartAsync(new() { ["Intake:TcpFirstLineTimeout"] = "00:00:00.300" });
        using var silent = await ConnectAsync(bot.TcpPort);
        Assert.Equal("ERR 408 no line within 0.3 s of connecting", await ReadLineAsync(silent, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_browser_form_posted_to_the_line_port_stores_nothing()
    {
        var (bot, db) = await StartAsync();
        // What a page elsewhere makes a browser send with <form method=post enctype=text/plain action=http://127.0.0.1:7777>.
        var request = $"POST / HTTP/1.1\r\nHost: 127.0.0.1:{bot.TcpPort}\r\nOrigin: http://evil.example\r\nContent-Type: text/plain\r\n" +
                      "Content-Length: 30\r\n\r\nurgent db1 pwned=from a page\n";
        var answers = await TcpAsync(bot, 10, request);
        Assert.Equal(["ERR this is the line intake, not HTTP"], answers);
        Assert.Equal(0, await ScalarAsync(db, "SELECT COUNT(*) FROM alerts"));
        // An alert that merely mentions HTTP is still an alert.
        Assert.Matches(@"^OK \d+$", (await TcpAsync(bot, 1, "URGENT web1 HTTP/2 errors up"))[0]);
    }
}
