// TEMPORARY: stand-ins until the irc and notify branches are merged. Deleted at merge.
using Larsbot.Irc;
using Microsoft.Extensions.Logging;

namespace Larsbot.Irc
{
    public sealed class IrcClient(IrcOptions options, TimeProvider time, ILogger<IrcClient> log) : IChannel, IAsyncDisposable
    {
        public bool IsConnected => false;
        public string CurrentNick => options.Nick;
        public string? CurrentTopic => null;
        public void Say(string text) => log.LogInformation("SAY {Text} {T}", text, time.GetUtcNow());
        public void SetTopic(string topic) { }
        public event Func<ChannelMessage, Task>? MessageReceived { add { } remove { } }
        public event Func<Task>? Joined { add { } remove { } }
        public Task RunAsync(CancellationToken ct) => Task.Delay(Timeout.Infinite, ct);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
