namespace Larsbot.Tests.Support;

/// <summary>The cleanup helper every server-starting test uses: nothing is left running because one step failed.</summary>
public class TeardownTests
{
    private sealed class Step(List<string> log, string name, bool fails = false) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            log.Add(name);
            return fails ? ValueTask.FromException(new InvalidOperationException(name + " failed")) : ValueTask.CompletedTask;
        }
    }

    private sealed class SyncStep(List<string> log, string name) : IDisposable
    {
        public void Dispose() => log.Add(name);
    }

    [Fact]
    public async Task A_step_that_throws_or_was_never_created_does_not_stop_the_ones_after_it()
    {
        var log = new List<string>();
        Step? neverStarted = null; // InitializeAsync threw before it was created
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Teardown.AllAsync(neverStarted, new Step(log, "bot", fails: true), new Step(log, "ngircd"), new SyncStep(log, "db")));
        Assert.Equal("bot failed", e.Message);
        Assert.Equal(["bot", "ngircd", "db"], log);
    }

    [Fact]
    public async Task Several_failures_are_all_reported()
    {
        var log = new List<string>();
        var e = await Assert.ThrowsAsync<AggregateException>(() =>
            Teardown.AllAsync(new Step(log, "a", fails: true), new Step(log, "b", fails: true)));
        Assert.Equal(["a failed", "b failed"], e.InnerExceptions.Select(x => x.Message));
        Assert.Equal(["a", "b"], log);
    }
}
