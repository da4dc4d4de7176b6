// TEMPORARY: stand-ins until the irc and notify branches are merged. Deleted at merge.
using Larsbot.Irc;
using Larsbot.Notify;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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

namespace Larsbot.Notify
{
    public static class NotifyServiceCollectionExtensions
    {
        public static IServiceCollection AddNotifiers(this IServiceCollection services, IConfiguration configuration) => services;
    }
}
