using System.Net;
using System.Net.Sockets;
using System.Text;
using Larsbot.Irc;
using Xunit.Abstractions;

namespace Larsbot.Tests.Fuzz;

/// <summary>
/// A hostile IRC server (a tiny fake on loopback: the point is input no real server would send) feeds the bot's own
/// client 10,000+ garbage lines after registering it: invalid UTF-8, NULs, bare CRs, bad numerics, PING floods,
/// a 10 MB line. The bot must keep answering PINGs and must never send anything but well-formed lines of the
/// commands it uses, to the places it uses them.
/// </summary>
public sealed class IrcServerFuzzTests(ITestOutputHelper output)
{
    private const int Inputs = 10_000;
    private static readonly HashSet<string> Allowed = ["CAP", "NICK", "USER", "PONG", "PING", "JOIN", "TOPIC", "PRIVMSG", "WHO", "QUIT", "AUTHENTICATE"];

    private static string Garbage(Random r, int i) => (i % 10) switch
    {
        0 => $"PING :{FuzzInputs.Text(r, 5)}",
        1 => $":{FuzzInputs.Text(r, 3)}!u@h PRIVMSG #ops :{(r.Next(3) == 0 ? "lars " : "")}{FuzzInputs.Text(r, 20)}",
        2 => $"{r.Next(1000):000} {FuzzInputs.Text(r, 6)}",
        3 => r.Next(8) switch
        {
            0 => "001", 1 => "005 bot NICKLEN=-5 TOPICLEN=99999999999 WHOX :x", 2 => "332", 3 => "366 bot", 4 => ":s 354 bot 7",
            5 => "AUTHENTICATE +", 6 => ":x!y@z ACCOUNT", _ => ":s CAP * LS :" + FuzzInputs.Text(r, 10),
        },
        4 => $"@{FuzzInputs.Text(r, 6)} :{FuzzInputs.Text(r, 2)} {FuzzInputs.Text(r, 3)} {FuzzInputs.Text(r, 8)}",
        5 => $":n!u@h JOIN #ops {FuzzInputs.Text(r, 2)} :{FuzzInputs.Text(r, 2)}",
        6 => $":n!u@h TOPIC #ops :{FuzzInputs.Text(r, 30)}",
        7 => $":n!u@h NICK {FuzzInputs.Text(r, 2)}",
        8 => $":n!u@h MODE #ops {FuzzInputs.Text(r, 3)} {FuzzInputs.Text(r, 2)}",
        _ => FuzzInputs.Text(r, 40),
    };

    [Fact]
    public async Task Lines_from_the_server()
    {
        var before = FuzzInputs.Memory();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var options = new IrcOptions
        {
            Server = "127.0.0.1", Port = port, Channel = "#ops", FloodBurst = 1000, FloodInterval = TimeSpan.Zero,
            ReconnectMinDelay = TimeSpan.FromMilliseconds(50), ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        };
        var bot = new IrcClient(options, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<IrcClient>.Instance);
        var heard = 0;
        bot.MessageReceived += _ => { Interlocked.Increment(ref heard); return Task.CompletedTask; };
        var run = bot.RunAsync(CancellationToken.None);
        using var server = await listener.AcceptTcpClientAsync();
        var stream = server.GetStream();
        var fromBot = new List<string>();
        var pong = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = Task.Run(async () =>
        {
            var lr = new IrcLineReader(stream, 1024 * 1024);
            try
            {
                while (await lr.ReadLineAsync(CancellationToken.None) is { } l)
                {
                    lock (fromBot) fromBot.Add(l);
                    if (l == "PONG :fuzz-done" || l == "PONG fuzz-done") pong.TrySetResult();
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // Our own Close() below can land before the bot's QUIT has ended the stream (mid-read it disposes the
                // stream under the reader): that is the end too.
            }
        });
        async Task SendAsync(byte[] bytes) => await stream.WriteAsync(bytes);
        await SendAsync(":s 001 Lars_Botlesen :hi\r\n:Lars_Botlesen!b@h JOIN #ops\r\n:s 366 Lars_Botlesen #ops :end\r\n"u8.ToArray());

        var r = new Random(42);
        var batch = new MemoryStream();
        var answerablePings = 0;
        for (var i = 0; i < Inputs; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(Garbage(r, i).Replace("\n", ""));
            if (i % 7 == 0) bytes = [.. bytes, 0xFF, 0xC3, 0x00, (byte)'\r', 0x28]; // invalid UTF-8, NUL, bare CR
            // A PING whose token holds CR or NUL cannot be echoed safely: the bot refuses to send that PONG.
            if (bytes.AsSpan().StartsWith("PING "u8) && bytes.AsSpan().IndexOfAny((byte)'\r', (byte)0) < 0) answerablePings++;
            batch.Write(bytes);
            batch.Write("\r\n"u8);
            if (i == Inputs / 2) batch.Write(new byte[10 * 1024 * 1024]); // one 10 MB line, then its end
            if (batch.Length > 64 * 1024) { await SendAsync(batch.ToArray()); batch.SetLength(0); }
        }
        await SendAsync([.. batch.ToArray(), .. "\r\n:s 001 Lars_Botlesen :x\r\nPING :fuzz-done\r\n"u8.ToArray()]);
        await pong.Task.WaitAsync(TimeSpan.FromSeconds(30));

        await bot.DisposeAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        server.Close();
        await reader.WaitAsync(TimeSpan.FromSeconds(10));
        List<string> sent;
        lock (fromBot) sent = [.. fromBot];
        var injections = sent.Count(l =>
        {
            var m = IrcMessage.Parse(l);
            if (m is null || !Allowed.Contains(m.Command) || Encoding.UTF8.GetByteCount(l) + 2 > 512 || l.Contains('\0') || l.Contains('\r')) return true;
            return m.Command == "PRIVMSG" && m.Param(0) != "#ops";
        });
        var pongs = sent.Count(l => l.StartsWith("PONG", StringComparison.Ordinal));
        var after = FuzzInputs.Memory();
        output.WriteLine($"FUZZ irc-server: inputs={Inputs} bot-lines={sent.Count} pings-answerable={answerablePings} pongs={pongs} messages-heard={heard} injections={injections} " +
                         $"crash={(run.IsFaulted ? 1 : 0)} heapMB {before.HeapMb:0.0}->{after.HeapMb:0.0} wsMB {before.WorkingSetMb:0}->{after.WorkingSetMb:0}");
        Assert.False(run.IsFaulted);
        Assert.Equal(0, injections);
        Assert.True(pongs >= answerablePings, $"only {pongs} PONGs for {answerablePings} answerable PINGs");
        Assert.True(after.HeapMb - before.HeapMb < 100, $"managed heap grew {after.HeapMb - before.HeapMb:0} MB");
    }
}
