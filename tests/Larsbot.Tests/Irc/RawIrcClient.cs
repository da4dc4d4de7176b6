using System.Net.Sockets;
using System.Text;
using Larsbot.Irc;

namespace Larsbot.Tests.Irc;

/// <summary>
/// A bare-bones IRC user for tests: sends exactly what it is told, answers PING, and records every line it receives
/// so a test can wait for one or check that nothing else arrived.
/// </summary>
public sealed class RawIrcClient : IAsyncDisposable
{
    private static readonly Encoding Utf8 = new UTF8Encoding(false);
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly List<string> _lines = [];
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _cursor;

    private RawIrcClient(TcpClient tcp, string nick)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        Nick = nick;
        _reader = Task.Run(ReadLoopAsync);
    }

    public string Nick { get; }

    /// <summary>True once the server has closed the connection.</summary>
    public bool Closed { get; private set; }

    /// <summary>Every line received so far, in order, without CRLF.</summary>
    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return _lines.ToArray(); }
    }

    /// <summary>Connects and registers; returns after the server's 001.</summary>
    public static async Task<RawIrcClient> ConnectAsync(int port, string nick, string host = "127.0.0.1", TimeSpan? timeout = null, string? password = null,
        string? userName = null)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(host, port);
        var client = new RawIrcClient(tcp, nick);
        if (password is not null)
            await client.SendAsync($"PASS {password}");
        await client.SendAsync($"NICK {nick}");
        await client.SendAsync($"USER {userName ?? nick.ToLowerInvariant()} 0 * :Raw test client");
        await client.WaitForLineAsync(l => Is(l, "001"), timeout ?? TimeSpan.FromSeconds(5));
        return client;
    }

    /// <summary>Joins and returns after the end of the NAMES list, when the join is complete.</summary>
    public async Task JoinAsync(string channel, TimeSpan? timeout = null)
    {
        await SendAsync($"JOIN {channel}");
        await WaitForLineAsync(l => Is(l, "366"), timeout ?? TimeSpan.FromSeconds(5));
    }

    /// <summary>Sends one line as is (CRLF appended). No escaping: tests use this to send anything at all.</summary>
    public async Task SendAsync(string rawLine)
    {
        var bytes = Utf8.GetBytes(rawLine + "\r\n");
        await _writeLock.WaitAsync();
        try
        {
            await _stream.WriteAsync(bytes);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Waits for the next line (after the last one this method returned) that matches. Lines skipped over stay in
    /// <see cref="Lines"/>. Throws a TimeoutException listing what did arrive.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task arrived;
            bool closed;
            lock (_lines)
            {
                // Read before the scan: the reader adds its last line before it sets Closed, so a close seen here
                // cannot hide a matching line that came just before it (it did once, with QUIT's ERROR line).
                closed = Closed;
                for (var i = _cursor; i < _lines.Count; i++)
                {
                    if (match(_lines[i]))
                    {
                        _cursor = i + 1;
                        return _lines[i];
                    }
                }
                arrived = _arrived.Task;
            }
            if (closed)
                throw new IOException($"{Nick}: connection closed before a matching line. Received:\n" + string.Join('\n', Lines));
            try
            {
                await arrived.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{Nick}: no matching line within {timeout}. Received:\n" + string.Join('\n', Lines));
            }
        }
    }

    /// <summary>Lines received since (not including) the given one, for "nothing else arrived" checks.</summary>
    public IReadOnlyList<string> LinesBetween(string first, string last)
    {
        var lines = Lines;
        var from = IndexOf(lines, first);
        var to = IndexOf(lines, last);
        return lines.Skip(from + 1).Take(to - from - 1).ToList();
    }

    /// <summary>True if the line is the given command or numeric (after an optional prefix).</summary>
    public static bool Is(string line, string command)
    {
        var m = IrcMessage.Parse(line);
        return m is not null && m.Command == command.ToUpperInvariant();
    }

    public async ValueTask DisposeAsync()
    {
        if (!Closed)
        {
            try
            {
                await SendAsync("QUIT :bye");
            }
            catch (IOException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }
        _stop.Cancel();
        _tcp.Dispose();
        try
        {
            await _reader;
        }
        catch (Exception)
        {
            // reader ends with the socket
        }
        _stop.Dispose();
        _writeLock.Dispose();
    }

    private static int IndexOf(IReadOnlyList<string> lines, string line)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            if (ReferenceEquals(lines[i], line) || lines[i] == line)
                return i;
        }
        throw new ArgumentException($"line not received: {line}");
    }

    private async Task ReadLoopAsync()
    {
        var reader = new IrcLineReader(_stream);
        try
        {
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.StartsWith("PING", StringComparison.Ordinal))
                    await SendAsync("PONG" + line[4..]);
                TaskCompletionSource arrived;
                lock (_lines)
                {
                    _lines.Add(line);
                    arrived = _arrived;
                    _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                arrived.TrySetResult();
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
        }
        finally
        {
            Closed = true;
            lock (_lines)
                _arrived.TrySetResult();
        }
    }
}
