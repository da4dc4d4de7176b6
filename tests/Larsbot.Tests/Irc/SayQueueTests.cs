using System.Text;
using Larsbot.Irc;

namespace Larsbot.Tests.Irc;

public class SayQueueTests
{
    [Fact]
    public void Drops_the_oldest_when_full_and_reports_once()
    {
        var queue = new SayQueue(3);
        Assert.False(queue.Enqueue("1"));
        Assert.False(queue.Enqueue("2"));
        Assert.False(queue.Enqueue("3"));
        Assert.True(queue.Enqueue("4")); // first drop: log
        Assert.False(queue.Enqueue("5")); // still dropping: quiet

        Assert.Equal(3, queue.Count);
        Assert.True(queue.TryPeek(out var first));
        Assert.Equal("3", first.Text);
        Assert.Equal(2, queue.TakeDroppedCount());
        Assert.Equal(0, queue.TakeDroppedCount());
        Assert.True(queue.Enqueue("6"));
    }

    [Fact]
    public void Paging_lines_go_ahead_of_chatter_each_in_order_and_chatter_is_dropped_first()
    {
        var queue = new SayQueue(4);
        queue.Enqueue("help 1");
        queue.Enqueue("help 2");
        queue.Enqueue("URGENT db1 - down", paging: true);
        queue.Enqueue("URGENT web1 - down", paging: true);
        var sent = new List<string>();
        while (queue.TryPeek(out var line))
        {
            sent.Add(line.Text);
            queue.Remove(line);
        }
        Assert.Equal(["URGENT db1 - down", "URGENT web1 - down", "help 1", "help 2"], sent);

        queue.Enqueue("help 3");
        queue.Enqueue("URGENT 1", paging: true);
        queue.Enqueue("URGENT 2", paging: true);
        queue.Enqueue("URGENT 3", paging: true);
        Assert.True(queue.Enqueue("URGENT 4", paging: true)); // full: the chatter line goes, then the oldest page line
        Assert.False(queue.Enqueue("URGENT 5", paging: true));
        Assert.Equal(2, queue.TakeDroppedCount());
        Assert.True(queue.TryPeek(out var next));
        Assert.Equal("URGENT 2", next.Text);
    }

    [Fact]
    public void Remove_takes_exactly_the_sent_line()
    {
        var queue = new SayQueue(10);
        queue.Enqueue("same");
        queue.Enqueue("same");
        queue.TryPeek(out var first);
        queue.Remove(first);
        queue.Remove(first);
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public async Task Each_line_is_answered_once_said_dropped_or_withdrawn()
    {
        var queue = new SayQueue(2);
        SayLine a = new("a"), b = new("b"), c = new("c"), d = new("d");
        queue.Enqueue(a, paging: false);
        queue.Enqueue(b, paging: false);
        queue.Enqueue(c, paging: true); // full: the oldest chatter line goes
        Assert.False(await a.Said);

        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        queue.Cancel(b, cts.Token);
        Assert.True(b.Said.IsCanceled);
        Assert.Equal(1, queue.Count);

        Assert.True(queue.TryBeginSend(out var next));
        Assert.Same(c, next);
        Assert.False(c.Said.IsCompleted);
        queue.Remove(c);
        Assert.True(await c.Said);

        queue.Enqueue(d, paging: false);
        Assert.False(d.Said.IsCompleted);
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public async Task A_line_being_written_is_answered_by_the_write_whatever_happens_to_the_queue_meanwhile()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        // Withdrawn mid-write, and the write went out: it was said.
        var queue = new SayQueue(10);
        var written = new SayLine("written");
        queue.Enqueue(written, paging: true);
        queue.TryBeginSend(out _);
        queue.Cancel(written, cts.Token);
        Assert.False(written.Said.IsCompleted);
        queue.Remove(written);
        Assert.True(await written.Said);

        // Withdrawn mid-write, and the write failed: withdrawn, and not said on the next connection.
        var failed = new SayLine("failed");
        queue.Enqueue(failed, paging: true);
        queue.TryBeginSend(out _);
        queue.Cancel(failed, cts.Token);
        queue.NotWritten(failed);
        Assert.True(failed.Said.IsCanceled);
        Assert.Equal(0, queue.Count);

        // A failed write without a cancel keeps the line for the next connection.
        var kept = new SayLine("kept");
        queue.Enqueue(kept, paging: false);
        queue.TryBeginSend(out _);
        queue.NotWritten(kept);
        Assert.False(kept.Said.IsCompleted);
        Assert.True(queue.TryPeek(out var first));
        Assert.Same(kept, first);

        // Dropped to make room mid-write: said if the write went out, dropped if it failed.
        var small = new SayQueue(1);
        var droppedButSaid = new SayLine("1");
        small.Enqueue(droppedButSaid, paging: false);
        small.TryBeginSend(out _);
        small.Enqueue("2");
        Assert.False(droppedButSaid.Said.IsCompleted);
        small.Remove(droppedButSaid);
        Assert.True(await droppedButSaid.Said);

        small.TryBeginSend(out var two);
        small.Enqueue("3");
        small.NotWritten(two);
        Assert.False(await two.Said);
        Assert.True(small.TryPeek(out var three));
        Assert.Equal("3", three.Text);
    }
}

public class IrcLineReaderTests
{
    [Fact]
    public async Task Splits_on_lf_strips_cr_and_survives_bad_bytes_and_huge_lines()
    {
        var bytes = new List<byte>();
        bytes.AddRange(Encoding.UTF8.GetBytes("PING :a\r\n"));
        bytes.AddRange(Encoding.UTF8.GetBytes("bare lf\n"));
        bytes.AddRange([(byte)'x', 0xFF, 0xC3, (byte)'\r', (byte)'\n']); // invalid UTF-8
        bytes.AddRange(Enumerable.Repeat((byte)'z', 100));
        bytes.AddRange(Encoding.UTF8.GetBytes("\r\nafter 😀\r\n"));
        bytes.AddRange(Encoding.UTF8.GetBytes("no newline at end"));
        var reader = new IrcLineReader(new MemoryStream(bytes.ToArray()), maxLineBytes: 64);

        Assert.Equal("PING :a", await reader.ReadLineAsync(CancellationToken.None));
        Assert.Equal("bare lf", await reader.ReadLineAsync(CancellationToken.None));
        Assert.Equal("x\uFFFD\uFFFD", await reader.ReadLineAsync(CancellationToken.None));
        Assert.Equal("after 😀", await reader.ReadLineAsync(CancellationToken.None)); // the 100-byte line was skipped
        Assert.Null(await reader.ReadLineAsync(CancellationToken.None));
    }
}
