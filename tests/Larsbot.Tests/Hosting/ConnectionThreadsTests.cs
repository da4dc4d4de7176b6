using System.Net;
using System.Net.Sockets;
using System.Text;
using Larsbot.Hosting;
using Larsbot.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Tests.Hosting;

/// <summary>
/// The HTTP transport that gives the first connections a thread each (Hosting/ConnectionThreads.cs), over real loopback
/// sockets with a raw HTTP/1.1 client: which thread serves which connection, what happens when the threads are taken,
/// when a client stops reading, resets, or the server stops.
/// </summary>
public sealed class ConnectionThreadsTests : IAsyncLifetime
{
    private const int BigBytes = 8 << 20;
    private WebApplication _app = null!;
    private ConnectionThreadsTransport _transport = null!;
    private int _port;
    private readonly TaskCompletionSource _bigWriteReturned = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Socket> _clients = [];

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        builder.Services.AddLogging();
        builder.Services.AddSingleton(sp => new ConnectionThreadsTransport(1,
                sp.GetRequiredService<IOptions<SocketTransportOptions>>(), sp.GetRequiredService<ILoggerFactory>()))
            .AddSingleton<IConnectionListenerFactory>(sp => sp.GetRequiredService<ConnectionThreadsTransport>());
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.UseRouting();
        _app.MapGet("/who", async (HttpContext c) =>
        {
            var who = Encoding.UTF8.GetBytes($"{Thread.CurrentThread.Name ?? "pool"}|{c.Connection.RemoteIpAddress}:{c.Connection.RemotePort}");
            c.Response.ContentLength = who.Length;
            await c.Response.Body.WriteAsync(who);
        });
        _app.MapGet("/big", async (HttpContext c) =>
        {
            c.Response.ContentLength = BigBytes;
            var write = c.Response.Body.WriteAsync(Pattern(BigBytes));
            _bigWriteReturned.TrySetResult(); // reached only if the write did not block this thread on the slow client
            await write;
        });
        await _app.StartAsync();
        _transport = _app.Services.GetRequiredService<ConnectionThreadsTransport>();
        _port = new Uri(_app.Urls.Single()).Port;
    }

    public async Task DisposeAsync()
    {
        foreach (var c in _clients) c.Dispose();
        await _app.DisposeAsync();
    }

    private static byte[] Pattern(int n)
    {
        var b = new byte[n];
        for (var i = 0; i < n; i++) b[i] = (byte)(i * 7 + (i >> 12));
        return b;
    }

    private Socket Connect(int receiveBuffer = 0)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBuffer > 0) s.ReceiveBufferSize = receiveBuffer;
        s.Connect(IPAddress.Loopback, _port);
        _clients.Add(s);
        return s;
    }

    /// <summary>
    /// Whether this connection's requests run on connection thread 1: true as soon as one of up to five does. Not
    /// every one must: Kestrel starts a connection on a pool thread, and a request that is already read when Kestrel
    /// (on whatever thread finished the last answer) asks for it is handled right there. Kestrel's own connections
    /// never run on it, which <see cref="NeverOnThreadAsync"/> checks request by request.
    /// </summary>
    private async Task<bool> OnThreadAsync(Socket s)
    {
        for (var i = 0; i < 5; i++)
            if ((await WhoAsync(s)).StartsWith("http conn 1|", StringComparison.Ordinal)) return true;
        return false;
    }

    private async Task NeverOnThreadAsync(Socket s)
    {
        for (var i = 0; i < 3; i++)
            Assert.DoesNotContain("http conn", (await WhoAsync(s)).Split('|')[0]);
    }

    private static void Send(Socket s, string path) =>
        s.Send(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));

    /// <summary>Reads one response: status line and headers, then Content-Length bytes of body.</summary>
    private static async Task<(string Head, byte[] Body)> ReadAsync(Socket s)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || !(head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await s.ReceiveAsync(one) == 0) throw new IOException($"closed after {head.Count} bytes of head");
            head.Add(one[0]);
        }
        var text = Encoding.ASCII.GetString(head.ToArray());
        var length = int.Parse(text.Split("\r\n").Single(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))[15..].Trim());
        var body = new byte[length];
        for (var got = 0; got < length;)
        {
            var n = await s.ReceiveAsync(body.AsMemory(got));
            if (n == 0) throw new IOException($"closed after {got} of {length} body bytes");
            got += n;
        }
        return (text, body);
    }

    private async Task<string> WhoAsync(Socket s)
    {
        Send(s, "/who");
        var (head, body) = await ReadAsync(s);
        Assert.StartsWith("HTTP/1.1 200", head);
        return Encoding.UTF8.GetString(body);
    }

    [Fact]
    public async Task The_first_connection_gets_the_thread_the_next_goes_to_kestrel_and_the_thread_is_reused()
    {
        var first = Connect();
        Assert.True(await OnThreadAsync(first), "the first connection's requests never ran on the connection thread");
        Assert.Equal(1, _transport.Served);
        await NeverOnThreadAsync(Connect()); // the one thread is taken

        first.Shutdown(SocketShutdown.Both);
        first.Close();
        await Eventually.TrueAsync(() => _transport.Served == 0, what: "the closed connection's thread was not freed");
        // Thread 1 again (its name says so): the freed thread took the next connection, no second thread was started.
        Assert.True(await OnThreadAsync(Connect()), "the next connection did not get the freed thread");
    }

    [Fact]
    public async Task With_many_connections_open_the_thread_hands_its_connection_to_kestrel_and_takes_one_again_later()
    {
        var first = Connect();
        Assert.True(await OnThreadAsync(first));
        var others = new[] { Connect(), Connect() }; // three open: more than twice the one thread
        foreach (var o in others) await NeverOnThreadAsync(o);
        Assert.Equal(3, _transport.Open);
        // The thread was waiting in the first connection's read: it takes the next request, then hands the connection
        // to asynchronous reads, and its requests never come back to it.
        await WhoAsync(first);
        await Eventually.TrueAsync(() => _transport.Served == 0, what: "the crowded connection kept its thread");
        await NeverOnThreadAsync(first);

        foreach (var o in others) o.Close();
        await Eventually.TrueAsync(() => _transport.Open == 1, what: "Kestrel's closed connections were not counted out");
        var next = Connect();
        Assert.True(await OnThreadAsync(next), "with the crowd gone, a new connection should get the thread again");
        first.Close();
        await Eventually.TrueAsync(() => _transport.Open == 1, what: "the handed-off connection was not counted out");
        Assert.Equal(1, _transport.Served);
    }

    [Theory]
    [InlineData(-1, true)]
    [InlineData(0, false)]
    [InlineData(64, false)]
    [InlineData(65, true)]
    public void The_number_of_threads_is_checked_at_start(int threads, bool refused)
    {
        var problems = new Larsbot.Intake.IntakeOptions { ConnectionThreads = threads }.Validate().ToList();
        Assert.Equal(refused, problems.Contains("Intake:ConnectionThreads must be between 0 (off) and 64"));
    }

    [Fact]
    public async Task The_handler_sees_the_clients_own_address_and_port()
    {
        var client = Connect();
        var local = (IPEndPoint)client.LocalEndPoint!;
        Assert.Equal($"127.0.0.1:{local.Port}", (await WhoAsync(client)).Split('|')[1]);
        Assert.Equal(1, _transport.Served);
    }

    [Fact]
    public async Task A_client_that_stops_reading_blocks_no_thread_and_later_gets_every_byte()
    {
        var slow = Connect(receiveBuffer: 4096);
        await Eventually.TrueAsync(() => _transport.Served == 1, what: "the connection did not reach its thread");
        Send(slow, "/big");
        // 8 MiB cannot fit in the sockets' buffers: the write must return while the client reads nothing.
        var returned = await Task.WhenAny(_bigWriteReturned.Task, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.True(returned == _bigWriteReturned.Task, "the handler's write blocked its thread on a client that does not read");
        Assert.True(_transport.SentLater >= 1, "the answer should have been finished by an asynchronous send");
        // Meanwhile another client is answered (by Kestrel: the one connection thread is the slow client's).
        await NeverOnThreadAsync(Connect());

        var (head, body) = await ReadAsync(slow);
        Assert.StartsWith("HTTP/1.1 200", head);
        Assert.Equal(Pattern(BigBytes), body);
        Assert.True(await OnThreadAsync(slow), "the connection should still work, on its thread");
    }

    [Fact]
    public async Task A_client_that_resets_mid_request_frees_its_thread()
    {
        var client = Connect();
        client.Send("GET /who HTTP/1.1\r\nHo"u8.ToArray());
        await Eventually.TrueAsync(() => _transport.Served == 1, what: "the connection did not reach its thread");
        client.LingerState = new LingerOption(true, 0); // close with RST
        client.Close();
        await Eventually.TrueAsync(() => _transport.Served == 0, what: "the reset connection's thread was not freed");
        Assert.True(await OnThreadAsync(Connect()), "the next connection did not get the freed thread");
    }

    [Fact]
    public async Task Stopping_the_server_closes_an_idle_connection_on_its_thread()
    {
        var client = Connect();
        await WhoAsync(client);
        Assert.Equal(1, _transport.Served);
        var stop = _app.StopAsync();
        // Kestrel closes idle keep-alive connections at once; the thread blocked in its read must be woken for that.
        Assert.True(await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(20))) == stop, "the server did not stop");
        await stop;
        var buffer = new byte[16];
        Assert.Equal(0, await client.ReceiveAsync(buffer));
        Assert.Equal(0, _transport.Served);
    }
}
