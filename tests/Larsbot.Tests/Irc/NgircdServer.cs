using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Irc;

/// <summary>
/// A real ngircd on a free loopback port, for tests that need actual server behaviour (line limits, flood queueing,
/// channel operator rules). Each instance owns a temp directory and its process; dispose stops it.
/// </summary>
public sealed class NgircdServer : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/ngircd";
    public const string ServerName = "irc.test";

    private readonly string _dir;
    private readonly string _configPath;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private readonly string? _password;

    private NgircdServer(string dir, int port, string? password, int? tlsPort)
    {
        _dir = dir;
        Port = port;
        _password = password;
        TlsPort = tlsPort;
        _configPath = Path.Combine(dir, "ngircd.conf");
    }

    public int Port { get; }
    /// <summary>The TLS port (self-signed certificate for 127.0.0.1), when started with <c>tls: true</c>.</summary>
    public int? TlsPort { get; }
    public string Host => "127.0.0.1";
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What ngircd printed so far (for failure messages).</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>
    /// Starts a server; with <paramref name="password"/> every client must send a matching PASS; with
    /// <paramref name="tls"/> it also listens for TLS on <see cref="TlsPort"/> with a fresh self-signed certificate.
    /// </summary>
    public static async Task<NgircdServer> StartAsync(string? password = null, bool tls = false)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(Binary))
            throw new InvalidOperationException("ngircd not found: run scripts/test.sh, which installs it");

        var dir = Directory.CreateTempSubdirectory("larsbot-ngircd-").FullName;
        // ngircd drops to `nobody` when started as root and must still write its pid file.
        File.SetUnixFileMode(dir, (UnixFileMode)0x1FF); // 0777
        var server = new NgircdServer(dir, Ports.Free(), password, tls ? Ports.Free() : null);
        if (tls)
            server.WriteCertificate();
        server.WriteConfig();
        try
        {
            await server.LaunchAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>Kills the server (clients see the connection drop, as in a crash).</summary>
    public async Task StopAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
            return;
        try
        {
            if (!process.HasExited)
            {
                // A frozen process still dies on SIGKILL, but resume it anyway so nothing lingers stopped.
                process.Kill(entireProcessTree: true);
            }
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        finally
        {
            process.Dispose();
        }
    }

    /// <summary>SIGSTOP: the server keeps its sockets open but answers nothing (a hung server or dead link).</summary>
    public Task FreezeAsync() => SignalAsync("-STOP");

    /// <summary>SIGCONT after <see cref="FreezeAsync"/>.</summary>
    public Task ThawAsync() => SignalAsync("-CONT");

    private async Task SignalAsync(string signal)
    {
        var pid = _process?.Id ?? throw new InvalidOperationException("ngircd is not running");
        using var kill = Process.Start("kill", [signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        if (kill.ExitCode != 0)
            throw new InvalidOperationException($"kill {signal} {pid} failed with {kill.ExitCode}");
    }

    /// <summary>Stops the server if it runs and starts it again on the same port with fresh state.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private void WriteConfig()
    {
        File.WriteAllText(_configPath, $"""
            [Global]
                Name = {ServerName}
                Info = Larsbot test server
                Listen = 127.0.0.1
                Ports = {Port}
                PidFile = {Path.Combine(_dir, "ngircd.pid")}
                MotdPhrase = test
            {(_password is null ? "" : "    Password = " + _password)}
            [Limits]
                MaxConnectionsIP = 0
                MaxNickLength = 30
            [Options]
                DNS = no
                Ident = no
                PAM = no
            {(TlsPort is null ? "" : $"""
            [SSL]
                CertFile = {Path.Combine(_dir, "cert.pem")}
                KeyFile = {Path.Combine(_dir, "key.pem")}
                Ports = {TlsPort}
            """)}
            """);
    }

    private void WriteCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        var now = TimeProvider.System.GetUtcNow();
        using var cert = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        var certPath = Path.Combine(_dir, "cert.pem");
        var keyPath = Path.Combine(_dir, "key.pem");
        File.WriteAllText(certPath, cert.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        // Readable by `nobody`, which ngircd may have become by the time it loads them; a throwaway test key.
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(certPath, (UnixFileMode)0x1A4); // 0644
            File.SetUnixFileMode(keyPath, (UnixFileMode)0x1A4);
        }
    }

    private async Task LaunchAsync()
    {
        var info = new ProcessStartInfo(Binary, ["-n", "-f", _configPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var refused = "";
        var listening = await Eventually.HoldsAsync(async () =>
        {
            if (process.HasExited)
                throw new InvalidOperationException($"ngircd exited with {process.ExitCode} on port {Port}:\n{Output}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return true;
            }
            catch (SocketException ex)
            {
                refused = ex.Message;
                return false;
            }
        }, TimeSpan.FromSeconds(10));
        if (!listening)
            throw new InvalidOperationException($"ngircd did not accept connections on port {Port}: {refused}\n{Output}");
    }
}
