using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Larsbot.Tests.Support;

/// <summary>
/// A real program the tests start (Alertmanager, Prometheus, an SMTP server) on a free loopback port with a temp
/// folder, and always kill: output is kept for failure messages.
/// </summary>
public sealed class Daemon : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private Daemon(Process process, string dir)
    {
        _process = process;
        Dir = dir;
    }

    public string Dir { get; }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Starts <paramref name="binary"/>; <paramref name="prepare"/> writes its config into the temp folder first.</summary>
    public static Daemon Start(string binary, string dirPrefix, Func<string, IEnumerable<string>> prepare)
    {
        if (!File.Exists(binary)) throw new InvalidOperationException($"{binary} not found: run scripts/test.sh, which installs it");
        var dir = Directory.CreateTempSubdirectory(dirPrefix).FullName;
        var psi = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
        foreach (var a in prepare(dir)) psi.ArgumentList.Add(a);
        var p = new Process { StartInfo = psi };
        var d = new Daemon(p, dir);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (d._output) d._output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (d._output) d._output.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return d;
    }

    /// <summary>Polls <paramref name="ready"/> until it holds (short waits, no fixed sleep).</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> ready, TimeSpan timeout, string what)
    {
        var seen = await Eventually.HoldsAsync(async () =>
        {
            if (_process.HasExited) throw new InvalidOperationException($"{what}: the program exited ({_process.ExitCode}):\n{Output}");
            try
            {
                return await ready();
            }
            catch (Exception e) when (e is HttpRequestException or SocketException)
            {
                return false;
            }
        }, timeout);
        if (!seen) throw new TimeoutException($"{what} not seen within {timeout}:\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
