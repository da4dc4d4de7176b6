namespace Larsbot.Tests.Support;

/// <summary>
/// A test's cleanup, step by step: each thing is disposed in order even when one before it throws, and one that was
/// never created (InitializeAsync failed before it, and xunit v2 still calls DisposeAsync) is skipped. Before, a test
/// whose bot failed to start threw at <c>_bot.DisposeAsync()</c> and left its ngircd running after the test run.
/// The first failure is rethrown once everything was tried.
/// </summary>
public static class Teardown
{
    /// <summary>Disposes each item (IAsyncDisposable, xunit's IAsyncLifetime or IDisposable; null is skipped), in order.</summary>
    public static async Task AllAsync(params object?[] items)
    {
        List<Exception>? failures = null;
        foreach (var item in items)
        {
            try
            {
                switch (item)
                {
                    case IAsyncDisposable a: await a.DisposeAsync(); break;
                    case IAsyncLifetime l: await l.DisposeAsync(); break;
                    case IDisposable d: d.Dispose(); break;
                }
            }
            catch (Exception e)
            {
                (failures ??= []).Add(e);
            }
        }
        if (failures is [var one]) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(one);
        if (failures is { Count: > 1 }) throw new AggregateException("several cleanup steps failed", failures);
    }
}
