using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Larsbot.Tests.Notify;

/// <summary>
/// A raw loopback HTTP server that answers one request with a success status and half a body, then closes its
/// side cleanly (FIN). Kestrel cannot do this: aborting resets the connection, which can lose the headers too.
/// </summary>
public sealed class CutOffServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Task _serving;

    private CutOffServer(TcpListener listener, int status)
    {
        _listener = listener;
        _serving = ServeOneAsync(status);
    }

    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public static Task<CutOffServer> StartAsync(int status)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return Task.FromResult(new CutOffServer(listener, status));
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _serving.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            // Stopped before a client came, or the client went away first: nothing to clean up.
        }
    }

    private async Task ServeOneAsync(int status)
    {
        using var client = await _listener.AcceptTcpClientAsync();
        var stream = client.GetStream();
        await ReadRequestAsync(stream);

        var head = $"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head + """{"sid":"SM0"""));
        await stream.FlushAsync();
        client.Client.Shutdown(SocketShutdown.Send);

        // Keep our end open until the client has given up on the rest of the body.
        var sink = new byte[1024];
        while (await stream.ReadAsync(sink) > 0)
        {
        }
    }

    private static async Task ReadRequestAsync(NetworkStream stream)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        int headerEnd;
        while ((headerEnd = IndexOf(received, "\r\n\r\n"u8.ToArray())) < 0)
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0) { return; }
            received.AddRange(buffer.AsSpan(0, read).ToArray());
        }
        var headers = Encoding.ASCII.GetString(received.ToArray(), 0, headerEnd);
        var length = headers.Split("\r\n")
            .Where(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            .Select(h => int.Parse(h["Content-Length:".Length..].Trim()))
            .FirstOrDefault();
        var bodySoFar = received.Count - (headerEnd + 4);
        while (bodySoFar < length)
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0) { return; }
            bodySoFar += read;
        }
    }

    private static int IndexOf(List<byte> haystack, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Count; i++)
        {
            var match = true;
            for (var j = 0; j < needle.Length && match; j++)
            {
                match = haystack[i + j] == needle[j];
            }
            if (match) { return i; }
        }
        return -1;
    }
}
