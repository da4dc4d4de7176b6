using Larsbot.Setup;
using System.Diagnostics;
using Larsbot.Hosting;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Acks;

/// <summary>
/// Secrets that open a door are long enough, and a password never goes out in plain text: refused while the host is
/// built, which is what both `larsbot run` and `larsbot check` do, with a message naming the key and never the value.
/// </summary>
public sealed class StartChecksTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    private Dictionary<string, string?> Settings(params (string Key, string Value)[] extra)
    {
        var s = new Dictionary<string, string?>(_db.Settings())
        {
            ["Roster:Path"] = Path.Combine(RepoPaths.Root, "roster.sample.json"),
            ["Intake:HttpUrl"] = "http://127.0.0.1:0",
            ["Intake:TcpPort"] = "-1",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (k, v) in extra) s[k] = v;
        return s;
    }

    private string Refused(params (string Key, string Value)[] extra) =>
        Assert.Throws<StartupException>(() => LarsbotHost.Build([], configFile: null, overrides: Settings(extra))).Message;

    private async Task BuildsAsync(params (string Key, string Value)[] extra)
    {
        await using var app = LarsbotHost.Build([], configFile: null, overrides: Settings(extra));
    }

    [Fact]
    public async Task Ack_tokens_and_the_Pushover_callback_secret_are_at_least_16_characters()
    {
        var m = Refused(("Acks:Tokens:0:Token", "short-tok"), ("Acks:Tokens:0:Person", "brong"));
        Assert.Contains("Acks:Tokens:0:Token is shorter than 16 characters", m);
        Assert.DoesNotContain("short-tok", m);
        Assert.Contains("Acks:Tokens:0:Person is empty", Refused(("Acks:Tokens:0:Token", "brong-ack-token-0123456789")));
        m = Refused(("Pushover:CallbackSecret", "cb-secret"));
        Assert.Contains("Pushover:CallbackSecret is shorter than 16 characters", m);
        Assert.DoesNotContain("cb-secret", m);

        await BuildsAsync(("Acks:Tokens:0:Token", "brong-ack-token-0123456789"), ("Acks:Tokens:0:Person", "brong"),
            ("Pushover:CallbackSecret", "cb-secret-0123456789"));
    }

    [Fact]
    public async Task Viewer_tokens_are_at_least_16_characters_and_never_also_an_intake_or_ack_token()
    {
        Assert.Contains("StatusPage:Tokens:0:Token is shorter than 16 characters", Refused(("StatusPage:Tokens:0:Token", "peek")));
        Assert.Contains("StatusPage:Tokens:0:Token is also an intake or ack token",
            Refused(("StatusPage:Tokens:0:Token", "shared-token-0123456789"), ("Intake:Tokens:0:Token", "shared-token-0123456789")));
        await BuildsAsync(("StatusPage:Tokens:0:Name", "manager"), ("StatusPage:Tokens:0:Token", "viewer-token-0123456789"));
    }

    [Fact]
    public async Task An_smtp_password_needs_an_encrypted_connection()
    {
        var m = Refused(("Email:SmtpHost", "smtp.example.net"), ("Email:Username", "larsbot"), ("Email:Password", "hunter2-smtp"),
            ("Email:Security", "None"));
        Assert.Contains("Email:Password is set but Email:Security is None", m);
        Assert.DoesNotContain("hunter2", m);
        Assert.Contains("Email:Security 'Sometimes' is not one of", Refused(("Email:SmtpHost", "smtp.example.net"), ("Email:Security", "Sometimes")));
        await BuildsAsync(("Email:SmtpHost", "smtp.example.net"), ("Email:Security", "None")); // no password: fine
        await BuildsAsync(("Email:SmtpHost", "smtp.example.net"), ("Email:Password", "hunter2-smtp"), ("Email:Security", "StartTls"));
    }

    [Fact]
    public async Task Larsbot_check_reports_them_and_exits_2()
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "larsbot.dll"), "check" },
            WorkingDirectory = _db.Dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (k, v) in Settings(("Acks:Tokens:0:Token", "short-tok"), ("Acks:Tokens:0:Person", "brong")))
            psi.Environment["LARSBOT_" + k.Replace(":", "__")] = v;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.Equal(2, p.ExitCode);
        Assert.Contains("larsbot: Acks:Tokens:0:Token is shorter than 16 characters", await stderr);
    }
}
