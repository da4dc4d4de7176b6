using System.Diagnostics;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Hosting;

/// <summary>
/// scripts/install.sh as written, run with DESTDIR into a temp folder (--config-only: the /etc/larsbot part, no build):
/// the config that holds the secrets is 600, and an existing one that others could read is made 600 again, untouched.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class InstallScriptTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("larsbot-install-").FullName;
    private string Etc => Path.Combine(_root, "etc", "larsbot");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private async Task<string> InstallAsync()
    {
        var psi = new ProcessStartInfo("bash")
        {
            ArgumentList = { Path.Combine(RepoPaths.Root, "scripts", "install.sh"), "--config-only" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["DESTDIR"] = _root;
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var errors = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"install.sh exited {p.ExitCode}: {await errors}");
        return await output;
    }

    [Fact]
    public async Task The_config_is_0600_and_an_existing_readable_one_is_tightened_not_overwritten()
    {
        await InstallAsync();
        var config = Path.Combine(Etc, "larsbot.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config));
        Assert.Contains("\"Twilio\"", await File.ReadAllTextAsync(config));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(Path.Combine(Etc, "roster.json")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute,
            File.GetUnixFileMode(Etc));

        // An operator's config left readable (as earlier versions of this script left it: 640).
        await File.WriteAllTextAsync(config, """{"Twilio": {"AuthToken": "secret"}}""");
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Assert.Contains("was mode 644; now 600", await InstallAsync());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config));
        Assert.Equal("""{"Twilio": {"AuthToken": "secret"}}""", await File.ReadAllTextAsync(config));
    }
}
