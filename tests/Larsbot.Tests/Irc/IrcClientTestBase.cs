using Larsbot.Tests.Support;
using Larsbot.Irc;
using Xunit.Abstractions;

namespace Larsbot.Tests.Irc;

/// <summary>
/// IrcClient against a real ngircd on loopback; each test owns its server. The tests are spread over a few classes
/// only so xunit runs them in parallel: ngircd holds every new client for a second after registration.
/// </summary>
public abstract class IrcClientTestBase(ITestOutputHelper output) : IAsyncLifetime
{
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    protected const string Chan = "#ops";

    private readonly List<IAsyncDisposable> _cleanup = [];

    protected NgircdServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await NgircdServer.StartAsync();

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync([.. Enumerable.Reverse(_cleanup), Server]);
    }

    protected async Task ReplaceServerAsync(string? password = null, bool tls = false)
    {
        await Server.DisposeAsync();
        Server = await NgircdServer.StartAsync(password, tls);
    }

    protected void OnCleanup(IAsyncDisposable item) => _cleanup.Add(item);

    protected async Task<RawIrcClient> Raw(string nick)
    {
        var raw = await RawIrcClient.ConnectAsync(Server.Port, nick);
        OnCleanup(raw);
        return raw;
    }

    private protected (IrcClient Bot, TestLogger<IrcClient> Log, TaskCompletionSource Joined) StartBot(
        Action<IrcOptions>? configure = null, Action<IrcClient>? before = null)
    {
        var options = new IrcOptions
        {
            Server = Server.Host,
            Port = Server.Port,
            Nick = "Lars",
            Channel = Chan,
            FloodBurst = 10,
            FloodInterval = TimeSpan.FromMilliseconds(50),
            ReconnectMinDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
            RejoinDelay = TimeSpan.FromMilliseconds(100),
            PingIdle = TimeSpan.FromSeconds(30),
        };
        configure?.Invoke(options);
        var log = new TestLogger<IrcClient>(output);
        var bot = new IrcClient(options, TimeProvider.System, log);
        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bot.Joined += () => { joined.TrySetResult(); return Task.CompletedTask; };
        before?.Invoke(bot);
        var run = bot.RunAsync(CancellationToken.None);
        OnCleanup(new AsyncCleanup(async () =>
        {
            await bot.DisposeAsync();
            await run.WaitAsync(Timeout);
        }));
        return (bot, log, joined);
    }

    /// <summary>
    /// A bot whose first Joined handler waits on <c>Gate</c>; <c>Held</c> completes when it starts waiting. The backlog
    /// is flushed only after the Joined handlers, so until the gate opens nothing queued can have been written.
    /// </summary>
    private protected (IrcClient Bot, TaskCompletionSource Held, TaskCompletionSource Gate) StartHeldBot(Action<IrcOptions>? configure = null)
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (bot, _, _) = StartBot(configure, b => b.Joined += async () =>
        {
            held.TrySetResult();
            await gate.Task.WaitAsync(Timeout);
        });
        return (bot, held, gate);
    }

    /// <summary>The text of every PRIVMSG the raw client received from <paramref name="nick"/>, in order.</summary>
    /// <summary>
    /// A bot whose second join (the rejoin after a restart) waits for <c>Gate</c>, so a test can be back in the channel
    /// before the backlog is flushed; <c>Disconnected</c> and <c>Rejoined</c> say when each happened.
    /// </summary>
    private protected (IrcClient Bot, TaskCompletionSource Joined, TaskCompletionSource Disconnected, TaskCompletionSource Rejoined,
        TaskCompletionSource Gate, Func<int> Joins) StartBotHeldAtRejoin()
    {
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var rejoined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var joins = 0;
        var (bot, _, joined) = StartBot(o => { }, b =>
        {
            b.Disconnected += () => { disconnected.TrySetResult(); return Task.CompletedTask; };
            b.Joined += async () =>
            {
                if (Interlocked.Increment(ref joins) == 2)
                {
                    rejoined.TrySetResult();
                    await gate.Task.WaitAsync(Timeout);
                }
            };
        });
        return (bot, joined, disconnected, rejoined, gate, () => Volatile.Read(ref joins));
    }

    protected static List<string> SaidBy(string nick, RawIrcClient raw) =>
        raw.Lines.Where(l => l.StartsWith($":{nick}!") && RawIrcClient.Is(l, "PRIVMSG"))
            .Select(l => IrcMessage.Parse(l)!.Trailing!)
            .ToList();

    private sealed class AsyncCleanup(Func<Task> action) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await action();
    }
}
