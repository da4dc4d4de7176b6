using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Hosting;

/// <summary>
/// Kestrel's HTTP transport, except that the first <c>Intake:ConnectionThreads</c> connections open at a time are each
/// served by a thread of their own. That thread waits in the socket's own read, so the kernel wakes it when a request
/// arrives, and it parses, handles, commits and answers the request itself. Kestrel's socket transport instead wakes
/// its epoll thread, which hands the request to a thread-pool worker: about 85 µs more CPU per request on the
/// two-core machine the benchmark runs on, which is most of what a lone sender (c=1) waits for
/// (docs/performance-notes.md, the nineteenth session). Only these connections run this way, so a slow commit on one
/// of them holds that connection alone; the IRC client, the providers' calls and every other connection stay on
/// Kestrel's transport and the thread pool. Connections beyond the threads go to Kestrel's own socket transport.
/// </summary>
public sealed class ConnectionThreadsTransport(int threads, IOptions<SocketTransportOptions> options, ILoggerFactory logs)
    : IConnectionListenerFactory
{
    private readonly SocketTransportFactory _kestrel = new(options, logs);

    /// <summary>Connections being served by a connection thread right now, over every listener.</summary>
    public int Served => _pool.Busy;

    /// <summary>Answers the socket could not take at once, finished by an asynchronous send (a client slow to read).</summary>
    public long SentLater => Interlocked.Read(ref _pool.SentLater);

    private readonly Threads _pool = new(threads);

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        // Unix sockets and inherited handles (systemd) keep Kestrel's own listener: nothing here has measured them.
        if (threads == 0 || endpoint is not IPEndPoint)
            return _kestrel.BindAsync(endpoint, cancellationToken);
        Socket socket;
        try
        {
            socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new AddressInUseException(e.Message, e); // what Kestrel's listener throws, so its message is the same
        }
        var o = options.Value;
        try
        {
            socket.Listen(o.Backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var kestrel = new SocketConnectionFactoryOptions
        {
            IOQueueCount = o.IOQueueCount,
            WaitForDataBeforeAllocatingBuffer = o.WaitForDataBeforeAllocatingBuffer,
            MaxReadBufferSize = o.MaxReadBufferSize,
            MaxWriteBufferSize = o.MaxWriteBufferSize,
            UnsafePreferInlineScheduling = o.UnsafePreferInlineScheduling,
        };
        var fallback = new SocketConnectionContextFactory(kestrel,
            logs.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets"));
        return ValueTask.FromResult<IConnectionListener>(new Listener(socket, fallback, _pool));
    }

    private sealed class Listener(Socket listen, SocketConnectionContextFactory fallback, Threads pool) : IConnectionListener
    {
        public EndPoint EndPoint { get; } = listen.LocalEndPoint!;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await listen.AcceptAsync(cancellationToken);
                }
                catch (ObjectDisposedException)
                {
                    return null; // unbound
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
                {
                    return null;
                }
                catch (SocketException)
                {
                    continue; // the peer reset before we accepted it (Kestrel's listener does the same)
                }
                // An exception out of AcceptAsync would end Kestrel's accept loop for good: a socket reset before it is
                // set up is dropped here, as Kestrel's own listener drops it, and the next one accepted.
                var reserved = false;
                try
                {
                    socket.NoDelay = true;
                    if (!pool.Crowded && pool.TryReserve())
                    {
                        reserved = true;
                        var connection = new ThreadConnection(socket, pool);
                        Interlocked.Increment(ref pool.Open);
                        pool.Run(connection);
                        return connection;
                    }
                    var kestrel = fallback.Create(socket);
                    Interlocked.Increment(ref pool.Open);
                    kestrel.ConnectionClosed.Register(static p => Interlocked.Decrement(ref ((Threads)p!).Open), pool);
                    return kestrel;
                }
                catch (SocketException)
                {
                    if (reserved) pool.Release();
                    socket.Dispose();
                }
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            listen.Dispose();
            return default;
        }

        public ValueTask DisposeAsync()
        {
            listen.Dispose();
            fallback.Dispose();
            return default;
        }
    }

    /// <summary>HTTP connections open on this transport's listeners, on a connection thread or not.</summary>
    public int Open => Volatile.Read(ref _pool.Open);

    /// <summary>
    /// Up to <c>size</c> threads, started when first needed and kept: each serves one connection until it closes, then
    /// waits for the next. A connection that finds none free goes to Kestrel's transport instead of waiting.
    /// <para>
    /// Only while few connections are open (at most twice <c>size</c>). Under many, a thread woken for each request
    /// costs more than it saves: side by side at 16 and 64 connections, two threads cost 7% of the requests a second
    /// (docs/performance-notes.md). So a connection accepted then goes to Kestrel, and one already on a thread is
    /// handed to asynchronous reads (<see cref="ThreadConnection.Receive"/>) and frees its thread.
    /// </para>
    /// </summary>
    internal sealed class Threads(int size)
    {
        private readonly ConcurrentStack<Worker> _idle = new();
        private int _busy;
        private int _started;
        public int Open;
        public long SentLater;

        public int Busy => Volatile.Read(ref _busy);
        public bool Crowded => Volatile.Read(ref Open) > 2 * size;

        public bool TryReserve()
        {
            while (true)
            {
                var busy = Volatile.Read(ref _busy);
                if (busy >= size) return false;
                if (Interlocked.CompareExchange(ref _busy, busy + 1, busy) == busy) return true;
            }
        }

        public void Release() => Interlocked.Decrement(ref _busy);

        public void Run(ThreadConnection connection)
        {
            if (_idle.TryPop(out var worker))
            {
                worker.Serve(connection);
                return;
            }
            var n = Interlocked.Increment(ref _started);
            new Worker(this, connection, n);
        }

        private sealed class Worker
        {
            private readonly Threads _pool;
            private readonly SemaphoreSlim _ready = new(0);
            private ThreadConnection? _next;

            public Worker(Threads pool, ThreadConnection first, int n)
            {
                _pool = pool;
                _next = first;
                // 1 MiB reserved (touched pages only count): a request's handler runs on this stack.
                new Thread(Loop, 1 << 20) { IsBackground = true, Name = $"http conn {n}" }.Start();
            }

            public void Serve(ThreadConnection connection)
            {
                Volatile.Write(ref _next, connection);
                _ready.Release();
            }

            private void Loop()
            {
                while (true)
                {
                    var connection = Interlocked.Exchange(ref _next, null);
                    var handedOff = connection?.Receive() ?? false;
                    // Idle before the connection's slot is freed: a connection that takes the slot finds this thread,
                    // so there are never more threads than slots.
                    _pool._idle.Push(this);
                    if (handedOff) connection!.ReceiveLater();
                    else connection?.ReceiveEnded();
                    _ready.Wait();
                }
            }
        }
    }
}
