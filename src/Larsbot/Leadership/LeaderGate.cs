using Larsbot.Setup;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Larsbot.Leadership;

/// <summary>
/// Wraps a hosted service: one marked <see cref="ILeaderOnly"/> starts only once this instance leads (at once for a
/// sole SQLite instance); any other starts as it always did. Leadership is never handed back within a process: a leader
/// that loses its lease stops the whole host, so a gated service starts at most once.
/// </summary>
internal sealed class LeaderGate(IHostedService inner, Role role, ILogger<LeaderGate> log) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _waiting;
    private volatile bool _started;

    public IHostedService Inner => inner;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (inner is not ILeaderOnly || role.Led.IsCompleted) return StartInnerAsync(cancellationToken);
        // The host calls StartAsync in registration order: the gated services start in that same order once this
        // instance leads (IrcPresence before the IRC client, so the first join is recorded).
        _waiting = WaitThenStartAsync(role.LastGatedStart);
        role.LastGatedStart = _waiting;
        return Task.CompletedTask;
    }

    private async Task WaitThenStartAsync(Task previous)
    {
        try
        {
            await role.Led.WaitAsync(_stopping.Token);
            await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await StartInnerAsync(_stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            log.LogCritical(e, "{Service} failed to start on taking the lead", inner.GetType().Name);
            throw;
        }
    }

    private async Task StartInnerAsync(CancellationToken ct)
    {
        await inner.StartAsync(ct);
        _started = true;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_waiting is not null) await _waiting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_started) await inner.StopAsync(cancellationToken);
    }
}
