using System.Net;
using System.Net.Sockets;

namespace Larsbot.Tests.Support;

/// <summary>
/// A loopback TCP relay in front of a server, which a test can cut like a network partition: <see cref="Blackhole"/>
/// keeps every connection open but stops relaying bytes either way and accepts new connections that go nowhere, so
/// neither side sees a close (no FIN, no RST); only timeouts can tell.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = [];
    private readonly Task _accepting;
    private volatile bool _blackholed;

    public TcpProxy(int targetPort)
    {
        _target = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>From now on nothing passes, and nothing is closed.</summary>
    public void Blackhole() => _blackholed = true;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            lock (_open) _open.Add(client);
            if (_blackholed) continue; // accepted, and left hanging
            var server = new TcpClient();
            lock (_open) _open.Add(server);
            _ = RelayAsync(client, server);
        }
    }

    private async Task RelayAsync(TcpClient client, TcpClient server)
    {
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
            await Task.WhenAny(PumpAsync(client.GetStream(), server.GetStream()), PumpAsync(server.GetStream(), client.GetStream()));
        }
        catch (Exception)
        {
            // Either side went away, or the proxy is stopping: this relay is over.
        }
        if (_blackholed) return; // a cut connection stays open: closing it would tell the other side
        client.Dispose();
        server.Dispose();
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to)
    {
        var buffer = new byte[16 * 1024];
        while (!_stop.IsCancellationRequested)
        {
            var n = await from.ReadAsync(buffer, _stop.Token);
            if (n == 0) return;
            if (_blackholed)
            {
                // Swallow whatever arrives from now on, forever.
                await Task.Delay(Timeout.Infinite, _stop.Token);
            }
            await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_open)
        {
            foreach (var c in _open) c.Dispose();
            _open.Clear();
        }
        try { await _accepting; } catch (Exception) { }
    }
}
