using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Larsbot.Hosting;

/// <summary>
/// One HTTP connection served by a connection thread (<see cref="ConnectionThreadsTransport"/>). The thread blocks in
/// the socket's read and writes what arrives into Kestrel's input pipe; that pipe runs its reader inline, so Kestrel
/// parses and handles the request on the same thread. Kestrel's answer is sent from whichever thread wrote it, without
/// ever blocking: a send the socket cannot take at once (a client that stops reading) is finished by .NET's own
/// asynchronous send, so no thread waits on a slow client.
/// </summary>
internal sealed class ThreadConnection : ConnectionContext, IConnectionLifetimeFeature, IConnectionEndPointFeature
{
    private static readonly PipeOptions Inline = new(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19, useSynchronizationContext: false);

    private readonly Socket _socket;
    private readonly nint _fd;
    private readonly ConnectionThreadsTransport.Threads _pool;
    private int _holdsThread = 1;
    private readonly Pipe _input = new(Inline), _output = new(Inline);
    private readonly CancellationTokenSource _closed = new();
    private readonly TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _sending;
    private volatile bool _aborted;

    public ThreadConnection(Socket socket, ConnectionThreadsTransport.Threads pool)
    {
        _socket = socket;
        _fd = socket.Handle;
        _pool = pool;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        Features.Set<IConnectionLifetimeFeature>(this);
        Features.Set<IConnectionEndPointFeature>(this);
        _sending = SendAsync();
    }

    public override string ConnectionId { get; set; } = Guid.NewGuid().ToString("N")[..16];
    public override IFeatureCollection Features { get; } = new FeatureCollection();
    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    public override IDuplexPipe Transport { get; set; }
    public override CancellationToken ConnectionClosed { get => _closed.Token; set { } }

    /// <summary>
    /// Run by the connection thread until the client closes or the connection is aborted (false), or until many
    /// connections are open (true: the caller then frees the thread and calls <see cref="ReceiveLater"/>). Each read's
    /// bytes are flushed to Kestrel, which handles the request before the flush returns (unless the handler waits).
    /// </summary>
    public bool Receive()
    {
        Exception? error = null;
        try
        {
            while (!_aborted)
            {
                if (_pool.Crowded) return true;
                var memory = _input.Writer.GetMemory(4096);
                var n = _socket.Receive(memory.Span);
                if (n == 0) break;
                _input.Writer.Advance(n);
                var flush = _input.Writer.FlushAsync();
                // Kestrel reads a request at a time, so the flush waits only when a client pipelines over a mebibyte.
                var result = flush.IsCompleted ? flush.Result : flush.AsTask().GetAwaiter().GetResult();
                if (result.IsCompleted || result.IsCanceled) break;
            }
        }
        catch (Exception e)
        {
            error = Failure(e);
        }
        _input.Writer.Complete(error);
        return false;
    }

    /// <summary>The rest of the connection, on asynchronous reads (thread-pool continuations, as Kestrel's transport).</summary>
    public async void ReceiveLater()
    {
        LeaveThread();
        Exception? error = null;
        try
        {
            while (!_aborted)
            {
                var n = await _socket.ReceiveAsync(_input.Writer.GetMemory(4096), SocketFlags.None);
                if (n == 0) break;
                _input.Writer.Advance(n);
                var result = await _input.Writer.FlushAsync();
                if (result.IsCompleted || result.IsCanceled) break;
            }
        }
        catch (Exception e)
        {
            error = Failure(e);
        }
        _input.Writer.Complete(error);
        ReceiveEnded();
    }

    /// <summary>
    /// What a read loop's exception tells Kestrel. Whatever it was ends this connection only: these loops run on no
    /// request's behalf, so nothing else would catch it. After an abort it is the abort's own doing, and says nothing.
    /// </summary>
    private Exception? Failure(Exception e) =>
        _aborted ? null : e is SocketException or ObjectDisposedException ? new ConnectionResetException(e.Message, e) : e;

    private void LeaveThread()
    {
        if (Interlocked.Exchange(ref _holdsThread, 0) == 1) _pool.Release();
    }

    /// <summary>Called once no thread reads the socket any more; the socket may now be closed.</summary>
    public void ReceiveEnded()
    {
        // As Kestrel's socket transport does when the client goes: the request in flight is told through RequestAborted.
        ThreadPool.UnsafeQueueUserWorkItem(static c =>
        {
            try { c.Cancel(); } catch (ObjectDisposedException) { }
        }, _closed, preferLocal: false);
        _received.TrySetResult();
    }

    private async Task SendAsync()
    {
        try
        {
            while (true)
            {
                var read = await _output.Reader.ReadAsync();
                var buffer = read.Buffer;
                foreach (var segment in buffer)
                {
                    var sent = SendNow(segment.Span);
                    if (sent == segment.Length) continue;
                    Interlocked.Increment(ref _pool.SentLater);
                    for (var rest = segment[sent..]; !rest.IsEmpty;)
                        rest = rest[await _socket.SendAsync(rest, SocketFlags.None)..];
                }
                _output.Reader.AdvanceTo(buffer.End);
                if (read.IsCompleted || read.IsCanceled) break;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The client went; the receive side sees it too.
        }
        _output.Reader.Complete();
        Shutdown();
    }

    /// <summary>
    /// Sends what the socket takes now, never waiting: <c>send(2)</c> with <c>MSG_DONTWAIT</c>. The socket stays
    /// blocking for the connection thread's reads; the rest, if any, goes through <see cref="Socket.SendAsync(ReadOnlyMemory{byte}, SocketFlags, CancellationToken)"/>.
    /// </summary>
    private int SendNow(ReadOnlySpan<byte> data)
    {
        var sent = 0;
        while (sent < data.Length)
        {
            var n = Send(_fd, ref MemoryMarshal.GetReference(data[sent..]), data.Length - sent, MsgDontWait | MsgNoSignal);
            if (n >= 0)
            {
                sent += (int)n;
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EIntr) continue;
            if (errno is EAgain) return sent;
            throw new SocketException(errno == EPipe ? (int)SocketError.Shutdown : (int)SocketError.ConnectionReset);
        }
        return sent;
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        _aborted = true;
        Shutdown(); // wakes the connection thread's read
        _output.Reader.CancelPendingRead();
    }

    public override async ValueTask DisposeAsync()
    {
        _aborted = true;
        _input.Reader.Complete();
        _output.Writer.Complete();
        await _sending;
        Shutdown();
        await _received.Task; // the connection thread no longer touches the socket, so its descriptor can go
        _socket.Dispose();
        _closed.Dispose();
        LeaveThread();
        Interlocked.Decrement(ref _pool.Open);
    }

    private void Shutdown()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // already closed by the peer
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;
        public PipeWriter Output => output;
    }

    private const int MsgDontWait = 0x40, MsgNoSignal = 0x4000, EIntr = 4, EAgain = 11, EPipe = 32;

#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code enabled for one blittable call
    [DllImport("libc", EntryPoint = "send", SetLastError = true)]
    private static extern nint Send(nint socket, ref byte buffer, nint length, int flags);
#pragma warning restore SYSLIB1054
}
