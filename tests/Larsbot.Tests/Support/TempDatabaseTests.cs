using Dapper;

namespace Larsbot.Tests.Support;

/// <summary>
/// The test database helper itself. xunit runs tests on a synchronisation context with as many threads as cores; a
/// constructor that blocks on async work whose continuations are posted back to that context deadlocks as soon as
/// every one of its threads blocks the same way (a CI run's PostgreSQL pass once hung 8 minutes in a test's setup).
/// </summary>
[Trait("Provider", "postgres")]
public class TempDatabaseTests
{
    /// <summary>A context every one of whose threads is busy: what is posted to it never runs.</summary>
    private sealed class BusyContext : SynchronizationContext
    {
        public int Posted;
        public override void Post(SendOrPostCallback d, object? state) => Interlocked.Increment(ref Posted);
        public override void Send(SendOrPostCallback d, object? state) => throw new InvalidOperationException("no thread free");
    }

    [Fact]
    public async Task A_PostgreSQL_database_is_created_even_when_the_tests_context_has_no_thread_free()
    {
        var context = new BusyContext();
        var created = new TaskCompletionSource<TempDatabase>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            SynchronizationContext.SetSynchronizationContext(context);
            try
            {
                created.SetResult(TempDatabase.Postgres());
            }
            catch (Exception e)
            {
                created.SetException(e);
            }
        }) { IsBackground = true, Name = "busy-context test thread" };
        thread.Start();
        // A deadlocked constructor never returns; 30 s is many times what creating a database takes.
        var finished = await Task.WhenAny(created.Task, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(finished == created.Task, $"TempDatabase.Postgres() deadlocked ({context.Posted} continuation(s) posted to the busy context)");
        using var db = await created.Task;
        await using var c = db.Connect();
        Assert.Equal(1, await c.ExecuteScalarAsync<int>("SELECT 1"));
        Assert.Equal(0, context.Posted);
    }
}
