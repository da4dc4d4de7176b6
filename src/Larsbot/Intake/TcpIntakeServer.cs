using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Intake;

/// <summary>
/// One alert per line: "LEVEL host message", answered "OK &lt;id&gt;" or "ERR &lt;reason&gt;". For hosts that have netcat
/// but no curl. Lines are capped (an endless line is answered with ERR and skipped, never buffered whole).
/// Senders that need a token send <c>AUTH &lt;token&gt;</c> as the first line (answered <c>OK auth</c>); a refused
/// connection gets <c>ERR 401 ...</c> or <c>ERR 403 ...</c> and is closed, so a guesser gets one try per connection.
/// One address holds at most <see cref="IntakeOptions.TcpMaxConnectionsPerAddress"/> connections, and a connection
/// that has not authenticated (or, without tokens, sent a line) within <see cref="IntakeOptions.TcpFirstLineTimeout"/>
/// is closed, so idle sockets from one sender cannot lock everyone else out. A connection whose first line is an HTTP
/// request line (a web page posting to this port) is closed before its body is read as alerts.
/// </summary>
public sealed partial class TcpIntakeServer(AlertIntake intake, IntakeGate gate, IOptions<IntakeOptions> options, TimeProvider time, ILogger<TcpIntakeServer> log)
    : BackgroundService
{
    private readonly IntakeOptions _options = options.Value;
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _connections;

    // One concurrency limiter per remote address; the partitioned limiter drops idle ones by itself.
    private readonly PartitionedRateLimiter<IPAddress> _perAddress = PartitionedRateLimiter.Create<IPAddress, IPAddress>(ip =>
        RateLimitPartition.GetConcurrencyLimiter(ip, _ => new ConcurrencyLimiterOptions
        {
            PermitLimit = options.Value.TcpMaxConnectionsPerAddress,
            QueueLimit = 0,
        }));

    // A whole request line, method to version: an alert such as "URGENT web1 HTTP/2 errors up" is not one.
    [GeneratedRegex(@"^(GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|CONNECT|TRACE) \S+ HTTP/\d(\.\d)?$", RegexOptions.CultureInvariant)]
    private static partial Regex HttpRequestLine();

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
                var address = Normalise((client.Client.RemoteEndPoint as IPEndPoint)?.Address);
                var lease = _perAddress.AttemptAcquire(address);
                if (!lease.IsAcquired)
                {
                    lease.Dispose();
                    _ = RefuseAsync(client, "ERR too many connections from your address, try again\n"u8.ToArray());
                    continue;
                }
                if (Interlocked.Increment(ref _connections) > _options.TcpMaxConnections)
                {
                    Interlocked.Decrement(ref _connections);
                    lease.Dispose();
                    _ = RefuseAsync(client, "ERR too many connections, try again\n"u8.ToArray());
                    continue;
                }
                _ = Task.Run(() => ServeAsync(client, lease, stoppingToken), stoppingToken);
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

    private static IPAddress Normalise(IPAddress? a) =>
        a is null ? IPAddress.None : a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    public override void Dispose()
    {
        _perAddress.Dispose();
        base.Dispose();
    }

    private static async Task RefuseAsync(TcpClient client, byte[] answer)
    {
        using (client)
        {
            try
            {
                await client.GetStream().WriteAsync(answer);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task ServeAsync(TcpClient client, RateLimitLease lease, CancellationToken stoppingToken)
    {
        using var _ = client;
        using var __ = lease;
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
                // Until the connection has a caller (AUTH, or its first line when no token is needed) the short
                // first-line timeout applies, measured from connecting; after that the idle timeout, per line.
                var connected = time.GetTimestamp();
                while (!stop.IsCancellationRequested)
                {
                    var limit = connection.Caller is null ? _options.TcpFirstLineTimeout - time.GetElapsedTime(connected) : _options.TcpIdleTimeout;
                    using var idle = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                    using var timer = time.CreateTimer(_ => idle.Cancel(), null, limit > TimeSpan.Zero ? limit : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
                    LineReader.Line? line;
                    try
                    {
                        line = await reader.ReadLineAsync(idle.Token);
                    }
                    catch (OperationCanceledException) when (idle.IsCancellationRequested && !stop.IsCancellationRequested && connection.Caller is null)
                    {
                        var answer = gate.HasTokens ? "ERR 408 no AUTH within" : "ERR 408 no line within";
                        await inFlight.Writer.WriteAsync(Task.FromResult(($"{answer} {_options.TcpFirstLineTimeout.TotalSeconds:0.###} s of connecting", true)), stop.Token);
                        break;
                    }
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
        public bool SawLine { get; set; }
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
        // A browser made to POST to this port sends HTTP: its body must never be read as alert lines.
        if (!connection.SawLine && HttpRequestLine().IsMatch(text)) return ("ERR this is the line intake, not HTTP", true);
        connection.SawLine = true;
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
        var result = await intake.AcceptAsync(new AlertInput(parts[1], parts[0], parts[2]), "tcp", ct, connection.Caller);
        if (result.Ok) return ($"OK {result.Id}", false);
        return (result.RateLimited || result.Forbidden ? $"ERR {result.Status} {result.Error}" : $"ERR {result.Error}", false);
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
