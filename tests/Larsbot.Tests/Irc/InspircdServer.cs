using System.Diagnostics;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Irc;

/// <summary>
/// Real InspIRCd 3 with Atheme services on free loopback ports (plain, TLS with a self-signed certificate for
/// 127.0.0.1, and the services link), started by scripts/irc/irc-up.sh: accounts, SASL PLAIN, account-tag,
/// extended-join, WHOX. Atheme keeps one database for the whole machine (/var/lib/atheme/services.db), so one
/// server is shared by every test that needs it (the "inspircd" collection) and the database is wiped first.
/// </summary>
public sealed class InspircdServer : IAsyncLifetime
{
    private const string AthemeDb = "/var/lib/atheme/services.db";
    private readonly string _dir = Directory.CreateTempSubdirectory("larsbot-inspircd-").FullName;

    public int Port { get; } = Ports.Free();
    public int TlsPort { get; } = Ports.Free();
    private int LinkPort { get; } = Ports.Free();

    public async Task InitializeAsync()
    {
        if (!OperatingSystem.IsLinux())
            throw new InvalidOperationException("InspIRCd tests need Linux; run scripts/test.sh");
        File.Delete(AthemeDb);
        var (code, output) = await RunScriptAsync("irc-up.sh", TimeSpan.FromSeconds(120));
        if (code != 0)
            throw new InvalidOperationException($"scripts/irc/irc-up.sh failed ({code}):\n{output}");
    }

    public async Task DisposeAsync()
    {
        await RunScriptAsync("irc-down.sh", TimeSpan.FromSeconds(10));
        // Wait for both to be gone so the next run's ports and database are free.
        foreach (var pidFile in new[] { "inspircd.pid", "atheme.pid" })
        {
            var path = Path.Combine(_dir, pidFile);
            if (!File.Exists(path) || !int.TryParse(File.ReadAllText(path).Trim(), out var pid)) continue;
            try
            {
                using var p = Process.GetProcessById(pid);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await p.WaitForExitAsync(cts.Token);
                }
                catch (OperationCanceledException)
                {
                    p.Kill();
                }
            }
            catch (ArgumentException)
            {
                // already gone
            }
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Connects <paramref name="nick"/>, registers it with NickServ (which also logs it in) and returns it.</summary>
    public async Task<RawIrcClient> RegisterAsync(string nick, string password)
    {
        var client = await RawIrcClient.ConnectAsync(Port, nick, timeout: TimeSpan.FromSeconds(10));
        await client.SendAsync($"PRIVMSG NickServ :REGISTER {password} {nick}@test.local");
        await client.WaitForLineAsync(l => l.Contains("NOTICE") && l.Contains("registered", StringComparison.OrdinalIgnoreCase), TimeSpan.FromSeconds(10));
        return client;
    }

    private async Task<(int Code, string Output)> RunScriptAsync(string script, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "scripts", "irc", script), _dir])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["IRC_PORT"] = Port.ToString();
        psi.Environment["IRC_TLS_PORT"] = TlsPort.ToString();
        psi.Environment["IRC_LINK_PORT"] = LinkPort.ToString();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            return (-1, "timed out");
        }
        return (p.ExitCode, await stdout + await stderr);
    }
}

[CollectionDefinition("inspircd")]
public sealed class InspircdCollection : ICollectionFixture<InspircdServer>;
