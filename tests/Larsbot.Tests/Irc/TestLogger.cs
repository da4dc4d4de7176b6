using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Larsbot.Tests.Irc;

/// <summary>Keeps every log entry (for "never logs the password" checks) and echoes it to the test output.</summary>
public sealed class TestLogger<T>(ITestOutputHelper? output = null) : ILogger<T>
{
    private readonly List<string> _entries = [];

    public IReadOnlyList<string> Entries
    {
        get { lock (_entries) return _entries.ToArray(); }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var entry = $"{TimeProvider.System.GetUtcNow():HH:mm:ss.fff} {logLevel}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}";
        lock (_entries)
            _entries.Add(entry);
        try
        {
            output?.WriteLine(entry);
        }
        catch (InvalidOperationException)
        {
            // the test has finished; the output helper no longer accepts lines
        }
    }
}
