using System.Diagnostics;
using System.Text;

namespace Larsbot.Tests.Support;

/// <summary>
/// The real bot as a separate process (the larsbot.dll beside the tests), configured only through LARSBOT_
/// environment variables, so a test can kill -9 it and start it again on the same SQLite file.
/// </summary>
public sealed class BotProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private BotProcess(Process process, int httpPort)
    {
        _process = process;
        HttpPort = httpPort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(10) };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int HttpPort { get; }
    public HttpClient Http { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Waits for the process to end by itself; false when it has not within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>
    /// The deployed form of the bot, built by scripts/publish.sh (scripts/test.sh builds it before the tests):
    /// LARSBOT_NATIVE_BINARY, or out/native/larsbot in the repository.
    /// </summary>
    public static string NativeBinary
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("LARSBOT_NATIVE_BINARY") is { Length: > 0 } set
                ? set
                : Path.Combine(RepoPaths.Root, "out", "native", "larsbot");
            if (!File.Exists(path))
                throw new FileNotFoundException($"no native build at {path}: run 'bash scripts/publish.sh' first (scripts/test.sh does)");
            return path;
        }
    }

    /// <summary>Starts the bot with these settings ("Irc:Port" style keys); Intake:HttpUrl is set from <paramref name="httpPort"/>.</summary>
    /// <param name="native">Run the Native AOT executable (<see cref="NativeBinary"/>) instead of larsbot.dll on the JIT.</param>
    public static BotProcess Start(IReadOnlyDictionary<string, string?> settings, int httpPort, string workDir, bool native = false)
    {
        var psi = new ProcessStartInfo(native ? NativeBinary : "dotnet")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (!native) psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "larsbot.dll"));
        psi.ArgumentList.Add("run");
        foreach (var (key, value) in settings)
            psi.Environment["LARSBOT_" + key.Replace(":", "__")] = value;
        psi.Environment["LARSBOT_Intake__HttpUrl"] = $"http://127.0.0.1:{httpPort}";
        psi.Environment["DOTNET_gcServer"] = "0";
        return new BotProcess(Process.Start(psi)!, httpPort);
    }

    /// <summary>Waits until /health answers 200 (or, with <paramref name="anyAnswer"/>, answers at all).</summary>
    /// <param name="nick">
    /// When set, ready only when the answer names this IRC nick: with several bots on one machine, a port another test's
    /// bot took a moment earlier must not pass for this one being up (this one then fails to bind and exits).
    /// </param>
    /// <param name="leader">
    /// When set, ready only when it answers as the leader: on PostgreSQL a bot is a healthy standby (no IRC, no engine)
    /// until it wins the lease, and after a kill -9 that waits for the dead one's lease to expire.
    /// </param>
    public async Task WaitReadyAsync(TimeSpan timeout, bool anyAnswer = false, string? nick = null, bool leader = false)
    {
        var last = "";
        var ready = await Eventually.HoldsAsync(async () =>
        {
            if (_process.HasExited) throw new InvalidOperationException($"bot exited with {_process.ExitCode}:\n{Output}");
            try
            {
                var r = await Http.GetAsync("/health");
                last = await r.Content.ReadAsStringAsync();
                if (nick is not null && !last.Contains($"\"nick\":\"{nick}\"", StringComparison.Ordinal)) return false;
                if (leader && !last.Contains("\"role\":\"leader\"", StringComparison.Ordinal)) return false;
                if (r.IsSuccessStatusCode || anyAnswer) return true;
            }
            catch (HttpRequestException)
            {
            }
            return false;
        }, timeout);
        if (!ready) throw new TimeoutException($"bot not ready in {timeout}: {last}\n{Output}");
    }

    /// <summary>kill -9: no shutdown code runs, exactly like a crash or the OOM killer.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    private bool _disposed;

    /// <summary>Kills and releases the process; a second call does nothing (so a failed restart shows its own error).</summary>
    public ValueTask DisposeAsync()
    {
        if (_disposed) return ValueTask.CompletedTask;
        _disposed = true;
        Kill();
        Http.Dispose();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
