using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Intake;

/// <summary>
/// One alert per line: "LEVEL host message", answered "OK &lt;id&gt;" or "ERR &lt;reason&gt;". For hosts that have netcat
/// but no curl. Lines are capped (an endless line is answered with ERR and skipped, never buffered whole).
/// </summary>
public sealed class TcpIntakeServer(AlertIntake intake, IOptions<IntakeOptions> options, TimeProvider time, ILogger<TcpIntakeServer> log)
    : BackgroundService
{
    private readonly IntakeOptions _options = options.Value;
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _connections;

    /// <summary>The port actually bound (useful when configured as 0).</summary>
    public Task<int> Port => _port.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.TcpPort < 0)
        {
            _port.TrySetResult(-1);
            return;
        }
        var listener = new TcpListener(IPAddress.Parse(_options.TcpAddress), _options.TcpPort);
        try
        {
            listener.Start();
        }
        catch (Exception e)
        {
            _port.TrySetException(e);
            throw;
        }
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _port.TrySetResult(port);
        log.LogInformation("TCP intake listening on {Address}:{Port}", _options.TcpAddress, port);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(stoppingToken);
                if (Interlocked.Increment(ref _connections) > _options.TcpMaxConnections)
                {
                    Interlocked.Decrement(ref _connections);
                    _ = RefuseAsync(client);
                    continue;
                }
                _ = Task.Run(() => ServeAsync(client, stoppingToken), stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            listener.Stop();
        }
    }

    private static async Task RefuseAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                await client.GetStream().WriteAsync("ERR too many connections, try again\n"u8.ToArray());
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken stoppingToken)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            var reader = new LineReader(stream, _options.MaxBodyBytes);
            while (!stoppingToken.IsCancellationRequested)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                using var timer = time.CreateTimer(_ => idle.Cancel(), null, _options.TcpIdleTimeout, Timeout.InfiniteTimeSpan);
                var line = await reader.ReadLineAsync(idle.Token);
                if (line is null) break;
                var answer = await HandleLineAsync(line, stoppingToken);
                await stream.WriteAsync(Encoding.UTF8.GetBytes(answer + "\n"), stoppingToken);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
        }
    }

    private async Task<string> HandleLineAsync(LineReader.Line line, CancellationToken ct)
    {
        if (line.TooLong) return $"ERR line over {_options.MaxBodyBytes} bytes";
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(line.Bytes).TrimEnd('\r');
        }
        catch (DecoderFallbackException)
        {
            return "ERR line is not valid UTF-8";
        }
        if (text.Trim().Length == 0) return "ERR empty line: send LEVEL host message";
        var parts = text.TrimStart().Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 3) return "ERR expected: LEVEL host message (e.g. urgent gateway2 rblcheck: listed)";
        var result = await intake.AcceptAsync(new AlertInput(parts[1], parts[0], parts[2]), "tcp", ct);
        return result.Ok ? $"OK {result.Id}" : $"ERR {result.Error}";
    }

    /// <summary>Reads LF-terminated lines without ever holding more than the cap of one line in memory.</summary>
    private sealed class LineReader(Stream stream, int max)
    {
        private readonly byte[] _buffer = new byte[8192];
        private int _start, _end;

        public sealed record Line(byte[] Bytes, bool TooLong);

        public async Task<Line?> ReadLineAsync(CancellationToken ct)
        {
            using var acc = new MemoryStream();
            var tooLong = false;
            while (true)
            {
                var nl = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                var upto = nl >= 0 ? nl : _end;
                if (!tooLong)
                {
                    acc.Write(_buffer, _start, upto - _start);
                    if (acc.Length > max)
                    {
                        tooLong = true;
                        acc.SetLength(0);
                    }
                }
                _start = nl >= 0 ? nl + 1 : _end;
                if (nl >= 0) return new Line(acc.ToArray(), tooLong);
                _start = _end = 0;
                var n = await stream.ReadAsync(_buffer, ct);
                if (n == 0) return acc.Length > 0 || tooLong ? new Line(acc.ToArray(), tooLong) : null;
                _end = n;
            }
        }
    }
}
