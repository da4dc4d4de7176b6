using Microsoft.Extensions.Logging;

namespace Larsbot.Tests.Support;

/// <summary>Keeps every formatted log line (with exception text), so a test can scan them for secrets.</summary>
public sealed class CollectingLoggerProvider : ILoggerProvider
{
    private readonly List<string> _lines = [];
    private TaskCompletionSource _logged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return [.. _lines]; }
    }

    /// <summary>Waits for a log line (already written or still to come) that matches.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task logged;
            lock (_lines)
            {
                if (_lines.FirstOrDefault(match) is { } line) return line;
                logged = _logged.Task;
            }
            try
            {
                await logged.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("never logged; logged:\n" + string.Join('\n', Lines));
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Collector(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Collector(CollectingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = $"{logLevel} {category}: {formatter(state, exception)}" + (exception is null ? "" : " " + exception);
            TaskCompletionSource logged;
            lock (owner._lines)
            {
                owner._lines.Add(line);
                logged = owner._logged;
                owner._logged = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            logged.TrySetResult();
        }
    }
}
