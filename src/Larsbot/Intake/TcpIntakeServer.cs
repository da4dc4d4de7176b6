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
/// Senders that need a token send <c>AUTH &lt;token&gt;</c> as the first line (answered <c>OK auth</c>); a refused
/// connection gets <c>ERR 401 ...</c> or <c>ERR 403 ...</c> and is closed, so a guesser gets one try per connection.
/// </summary>
public sealed class TcpIntakeServer(AlertIntake intake, IntakeGate gate, IOptions<IntakeOptions> options, TimeProvider time, ILogger<TcpIntakeServer> log)
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
            var remote = (client.Client.RemoteEndPoint as IPEndPoint)?.Address;
            if (gate.CheckNetwork(remote) is { } denied)
            {
                log.LogDebug("TCP intake refused {Remote}: {Reason}", remote, denied);
                await stream.WriteAsync(Encoding.UTF8.GetBytes($"ERR 403 {denied}\n"), stoppingToken);
                return;
            }
            var connection = new Connection(remote);
            var reader = new LineReader(stream, _options.MaxBodyBytes);
            // Pipelined: each line is started as it arrives (so a host streaming lines gets them committed in shared
            // batches) and answered in order by the writer below. Authentication is decided synchronously inside
            // HandleLineAsync, before its first await, so a line that closes the connection is known at once and no
            // later line is started.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var inFlight = System.Threading.Channels.Channel.CreateBounded<Task<(string Answer, bool Close)>>(256);
            var writer = Task.Run(async () =>
            {
                try
                {
                    await foreach (var handled in inFlight.Reader.ReadAllAsync(stop.Token))
                    {
                        var (answer, close) = await handled;
                        await stream.WriteAsync(Encoding.UTF8.GetBytes(answer + "\n"), stop.Token);
                        if (close) break;
                    }
                }
                finally
                {
                    stop.Cancel();
                }
            });
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    using var idle = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                    using var timer = time.CreateTimer(_ => idle.Cancel(), null, _options.TcpIdleTimeout, Timeout.InfiniteTimeSpan);
                    var line = await reader.ReadLineAsync(idle.Token);
                    if (line is null) break;
                    var handled = HandleLineAsync(connection, line, stoppingToken);
                    await inFlight.Writer.WriteAsync(handled, stop.Token);
                    if (handled.IsCompletedSuccessfully && handled.Result.Close) break;
                }
            }
            finally
            {
                inFlight.Writer.TryComplete();
                try
                {
                    await writer;
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
                {
                }
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

    private sealed class Connection(IPAddress? remote)
    {
        public IPAddress? Remote { get; } = remote;
        public IntakeCaller? Caller { get; set; }
    }

    private async Task<(string Answer, bool Close)> HandleLineAsync(Connection connection, LineReader.Line line, CancellationToken ct)
    {
        if (line.TooLong) return ($"ERR line over {_options.MaxBodyBytes} bytes", false);
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(line.Bytes).TrimEnd('\r');
        }
        catch (DecoderFallbackException)
        {
            return ("ERR line is not valid UTF-8", false);
        }
        if (text.StartsWith("AUTH ", StringComparison.OrdinalIgnoreCase))
        {
            var auth = gate.Authenticate(connection.Remote, text[5..].Trim());
            if (!auth.Ok)
            {
                log.LogDebug("TCP intake refused {Remote}: {Reason}", connection.Remote, auth.Reason);
                return ($"ERR {auth.Status} {auth.Reason}", true);
            }
            connection.Caller = auth.Caller;
            return ("OK auth", false);
        }
        if (connection.Caller is null)
        {
            var auth = gate.Authenticate(connection.Remote, null);
            if (!auth.Ok) return ($"ERR {auth.Status} missing token: send 'AUTH <token>' as the first line", true);
            connection.Caller = auth.Caller;
        }
        if (text.Trim().Length == 0) return ("ERR empty line: send LEVEL host message", false);
        var parts = text.TrimStart().Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 3) return ("ERR expected: LEVEL host message (e.g. urgent gateway2 rblcheck: listed)", false);
        if (IntakeGate.CheckHost(connection.Caller!, parts[1]) is { } notYours) return ($"ERR 403 {notYours}", false);
        var result = await intake.AcceptAsync(new AlertInput(parts[1], parts[0], parts[2]), "tcp", ct);
        if (result.Ok) return ($"OK {result.Id}", false);
        return (result.RateLimited ? $"ERR 429 {result.Error}" : $"ERR {result.Error}", false);
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
