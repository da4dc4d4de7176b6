using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Npgsql;

namespace Larsbot.Tests.Support;

/// <summary>
/// A real PostgreSQL 15 server (Debian's postgresql-15, which scripts/test.sh installs) in a temp folder, listening
/// on 127.0.0.1 on a free port, with trust authentication for the superuser <c>postgres</c>. PostgreSQL refuses to run
/// as root, so when the tests are root its programs run as the OS user <c>postgres</c> (setpriv, which execs: the
/// process the tests start is the postmaster itself).
/// <para>
/// <see cref="Shared"/> is one server for the whole test process, started on first use; each test takes a database of
/// its own from it (<see cref="CreateDatabaseAsync"/>), so tests run in parallel. <see cref="StartPrivate"/> is a
/// server of the caller's own, to <see cref="Stop"/>, <see cref="Kill"/> and <see cref="Start"/> again under a bot.
/// Every server still running is stopped and its folder removed when the test process exits, however it exits: a
/// watcher of its own (a small shell outside the test process's tree, reading a pipe the test process holds) does
/// it when that pipe closes, which is on <see cref="AppDomain.ProcessExit"/> or when the process dies. (Stopping
/// from inside ProcessExit is not enough: the test runner kills its test host soon after the last test, and did so
/// mid-stop, leaving the shared server's folder behind.)
/// </para>
/// <para>
/// Built for speed, and safe only for throw-away data: initdb --no-sync (the files are not flushed) and fsync=off
/// (nothing is flushed to disk, so an OS crash or power loss could corrupt the cluster). A process crash, which is
/// what <see cref="Kill"/> is, loses nothing committed: synchronous_commit stays on, so a commit has reached the
/// kernel before it is acknowledged, and crash recovery replays it on the next <see cref="Start"/>.
/// </para>
/// </summary>
public sealed class PostgresServer : IDisposable, IAsyncDisposable
{
    public const string BinDir = "/usr/lib/postgresql/15/bin";
    public const string Superuser = "postgres";
    private const string OsUser = "postgres";
    private const string ReadyLine = "database system is ready to accept connections";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private const int LogLimit = 256 * 1024;

    private static readonly ConcurrentDictionary<PostgresServer, bool> Live = new();
    private static readonly Lazy<PostgresServer> SharedServer = new(() => Launch("larsbot-pg-shared-", shared: true));

    private readonly Lock _gate = new();
    private readonly StringBuilder _log = new();
    private readonly bool _shared;
    private Process? _postmaster;
    private Process? _watcher;
    private bool _disposed;

    static PostgresServer() =>
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            // Only a signal, no waiting: the watchers stop the servers (the runner may kill this process any moment).
            foreach (var server in Live.Keys) server.ReleaseWatcher();
        };

    private PostgresServer(string dir, bool shared)
    {
        Dir = dir;
        _shared = shared;
    }

    /// <summary>The process-wide server, started on first use and stopped when the test process exits. Never dispose it.</summary>
    public static PostgresServer Shared => SharedServer.Value;

    /// <summary>A server of the caller's own, running when this returns; dispose it to stop it and remove its folder.</summary>
    public static PostgresServer StartPrivate() => Launch("larsbot-pg-", shared: false);

    /// <summary>The temp folder: the cluster in data/, and the server's unix socket.</summary>
    public string Dir { get; }

    public string DataDir => Path.Combine(Dir, "data");

    /// <summary>The loopback port; the same across <see cref="Stop"/>/<see cref="Kill"/> and <see cref="Start"/>.</summary>
    public int Port { get; private set; }

    /// <summary>The postmaster's process id while it runs.</summary>
    public int? Pid
    {
        get { lock (_gate) return _postmaster is { HasExited: false } p ? p.Id : null; }
    }

    public bool IsRunning => Pid is not null;

    /// <summary>What the server said (its log goes to stderr), the last 256 KB, for failure messages.</summary>
    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>An Npgsql connection string for <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database = "postgres") => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Database = database,
        IncludeErrorDetail = true,
    }.ConnectionString;

    /// <summary>Creates a fresh, empty database with a unique name and returns the connection string for it.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"larsbot_{Guid.NewGuid():N}";
        await using var c = new NpgsqlConnection(ConnectionString());
        await c.OpenAsync().ConfigureAwait(false);
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", c);
        await create.ExecuteNonQueryAsync().ConfigureAwait(false);
        return ConnectionString(name);
    }

    /// <summary>
    /// Starts the postmaster on the existing cluster and port, and returns once it accepts connections (after crash
    /// recovery when it was killed). Throws, with the server's log, when it has not within 30 s.
    /// </summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_postmaster is { HasExited: false }) throw new InvalidOperationException("the server is already running");
            _postmaster?.Dispose();
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var psi = Command("postgres", "-D", DataDir, "-p", Port.ToString(),
                "-c", "listen_addresses=127.0.0.1", "-c", $"unix_socket_directories={Dir}",
                // Throw-away clusters only (see the class comment): nothing waits for the disk.
                "-c", "fsync=off",
                "-c", "max_connections=300", "-c", "lc_messages=C");
            psi.RedirectStandardOutput = true;
            psi.RedirectStandardError = true;
            var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
            DataReceivedEventHandler collect = (_, e) =>
            {
                if (e.Data is null) return;
                Append(e.Data);
                if (e.Data.Contains(ReadyLine, StringComparison.Ordinal)) ready.TrySetResult();
            };
            p.OutputDataReceived += collect;
            p.ErrorDataReceived += collect;
            p.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"the postmaster exited ({p.ExitCode})"));
            Append($"== starting postmaster on port {Port}");
            p.Start();
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            _postmaster = p;
            try
            {
                if (!ready.Task.Wait(StartTimeout)) throw new TimeoutException($"not ready within {StartTimeout.TotalSeconds:0} s");
                // The log line says so; a real connection proves it.
                using var c = new NpgsqlConnection(ConnectionString() + ";Pooling=false");
                c.Open();
            }
            catch (Exception e)
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.WaitForExit(); // the rest of its output, for the message
                throw new InvalidOperationException(
                    $"PostgreSQL did not start ({(e as AggregateException)?.InnerException?.Message ?? e.Message}) in {Dir}; its log:\n{Log}", e);
            }
        }
    }

    /// <summary>Stops the server (pg_ctl stop -m fast: connections are ended, the data kept); killed if that takes over 30 s.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            ThrowIfShared();
            if (_postmaster is not { } p) return;
            if (!p.HasExited)
            {
                var (exit, output) = Run("pg_ctl", "stop", "-D", DataDir, "-m", "fast", "-w", "-t", "30");
                if (exit != 0) Append($"== pg_ctl stop failed ({exit}): {output}");
                if (exit != 0 || !p.WaitForExit(StartTimeout))
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit();
                }
            }
            p.Dispose();
            _postmaster = null;
        }
    }

    /// <summary>
    /// kill -9 of the postmaster and its backends at once, as a crashed database host would leave them: clients lose
    /// their connections, nothing is shut down cleanly, and <see cref="Start"/> then runs crash recovery.
    /// </summary>
    public void Kill()
    {
        lock (_gate)
        {
            ThrowIfShared();
            if (_postmaster is not { HasExited: false } p) throw new InvalidOperationException("the server is not running");
            // The backends too: one left over would still hold the shared memory, and the restart would refuse to run.
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            Append("== killed (SIGKILL)");
            p.Dispose();
            _postmaster = null;
        }
    }

    /// <summary>Stops a private server and removes its folder; does nothing for <see cref="Shared"/>, which the process exit stops.</summary>
    public void Dispose()
    {
        if (!_shared) Shutdown();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private void Shutdown()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            try
            {
                Stop();
            }
            finally
            {
                Live.TryRemove(this, out _);
                try
                {
                    Directory.Delete(Dir, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
                ReleaseWatcher(); // it finds the folder gone and has nothing to do
            }
        }
    }

    private void ThrowIfShared()
    {
        if (_shared && !_disposed)
            throw new InvalidOperationException("the shared server runs every test's database: stop or kill one from StartPrivate()");
    }

    private static PostgresServer Launch(string prefix, bool shared)
    {
        if (!File.Exists(Path.Combine(BinDir, "initdb")))
            throw new InvalidOperationException($"{BinDir}/initdb not found: run scripts/test.sh, which installs postgresql-15");
        var server = new PostgresServer(Directory.CreateTempSubdirectory(prefix).FullName, shared);
        Live[server] = true;
        try
        {
            server.StartWatcher();
            server.Init();
            server.StartOnFreePort();
            return server;
        }
        catch
        {
            server.Shutdown();
            throw;
        }
    }

    private void Init()
    {
        // The folder must be the server's own: PostgreSQL insists on owning (and being alone in) its data folder.
        if (Environment.IsPrivilegedProcess)
        {
            var (chown, chownOutput) = Run("/bin/chown", $"{OsUser}:", Dir);
            if (chown != 0) throw new InvalidOperationException($"chown {OsUser}: {Dir} failed ({chown}): {chownOutput}");
        }
        // --no-sync: nothing is flushed to disk, fine for a cluster that is deleted after the tests (class comment).
        // C locale: messages in English (the ready line) and text ordered byte by byte, as SQLite does.
        var (exit, output) = Run("initdb", "-D", DataDir, "-U", Superuser, "-A", "trust", "--no-sync",
            "--encoding=UTF8", "--locale=C", "--no-instructions");
        if (exit != 0) throw new InvalidOperationException($"initdb failed ({exit}) in {Dir}:\n{output}");
    }

    /// <summary>
    /// The watcher: blocks reading a pipe this process holds, and when it ends (ReleaseWatcher, or this process gone,
    /// even by kill -9) stops the server (pg_ctl stop -m fast, else kill -9 of the postmaster named in postmaster.pid,
    /// if that process is this folder's postmaster) and removes the folder. setsid -f: its own session, and a child
    /// of init, so neither the runner killing the test host's process tree nor a Ctrl+C stops it first.
    /// </summary>
    private void StartWatcher()
    {
        const string script = """
            exec >/dev/null 2>&1
            cat
            [ -d "$1" ] || exit 0
            if ! $3 "$2/pg_ctl" stop -D "$1/data" -m fast -w -t 20; then
              pid=$(head -n 1 "$1/data/postmaster.pid")
              [ -n "$pid" ] && grep -qaF -- "$1/data" "/proc/$pid/cmdline" && kill -9 "$pid"
            fi
            rm -rf -- "$1"
            """;
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardInput = true, WorkingDirectory = "/" };
        var asPostgres = Environment.IsPrivilegedProcess ? $"setpriv --reuid={OsUser} --regid={OsUser} --init-groups --" : "";
        foreach (var a in new[] { "-f", "/bin/sh", "-c", script, "watcher", Dir, BinDir, asPostgres }) psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C";
        // setsid -f returns at once; its child keeps the read end of the pipe this Process object writes to.
        _watcher = Process.Start(psi)!;
        _watcher.WaitForExit();
    }

    private void ReleaseWatcher()
    {
        try
        {
            _watcher?.StandardInput.Close();
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Ports.Free's port can be taken before the server binds it: then another one, up to three times.</summary>
    private void StartOnFreePort()
    {
        for (var attempt = 1; ; attempt++)
        {
            Port = Ports.Free();
            try
            {
                Start();
                return;
            }
            catch (InvalidOperationException) when (attempt < 3 && Log.Contains("could not bind", StringComparison.Ordinal))
            {
            }
        }
    }

    /// <summary>A PostgreSQL program (or /bin/chown), run as the OS user postgres when the tests are root.</summary>
    private ProcessStartInfo Command(string program, params string[] args)
    {
        var ours = !program.StartsWith('/');
        var path = ours ? Path.Combine(BinDir, program) : program;
        var asPostgres = ours && Environment.IsPrivilegedProcess;
        var psi = new ProcessStartInfo(asPostgres ? "setpriv" : path) { UseShellExecute = false, WorkingDirectory = Dir };
        if (asPostgres)
        {
            foreach (var a in new[] { $"--reuid={OsUser}", $"--regid={OsUser}", "--init-groups", "--", path }) psi.ArgumentList.Add(a);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C";
        return psi;
    }

    /// <summary>Runs a short-lived program to its end (at most a minute); its exit code and output.</summary>
    private (int Exit, string Output) Run(string program, params string[] args)
    {
        var psi = Command(program, args);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private void Append(string line)
    {
        lock (_log)
        {
            _log.AppendLine(line);
            if (_log.Length > LogLimit) _log.Remove(0, _log.Length - LogLimit / 2);
        }
    }
}
