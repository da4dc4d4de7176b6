using System.Net.Sockets;
using Larsbot.Email;
using Larsbot.Tests.Paging;
using Larsbot.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Larsbot.Tests.Email;

/// <summary>
/// The SMTP password never crosses an unencrypted connection. The server is Debian's aiosmtpd set up as a careless
/// (or downgraded) one would be: AUTH offered without TLS, no STARTTLS; it writes every login it receives to a file.
/// </summary>
public sealed class SmtpPasswordTests : IAsyncLifetime
{
    // aiosmtpd's own Controller with auth_require_tls=False: what a server that offers AUTH in plain text does.
    private const string Server = """
        import sys, time
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult
        port, logins = int(sys.argv[1]), sys.argv[2]
        def authenticate(server, session, envelope, mechanism, auth_data):
            with open(logins, "a") as f:
                f.write(f"{mechanism} {auth_data.login.decode()} {auth_data.password.decode()}\n")
            return AuthResult(success=True)
        class Deliver:
            async def handle_DATA(self, server, session, envelope):
                with open(logins + ".mail", "a") as f:
                    f.write(envelope.content.decode("utf-8", "replace"))
                return "250 OK"
        Controller(Deliver(), hostname="127.0.0.1", port=port, authenticator=authenticate, auth_require_tls=False).start()
        while True:
            time.sleep(3600)
        """;
    private const string Password = "smtp-password-0123456789";
    private Daemon _smtp = null!;
    private int _port;
    private string Logins => Path.Combine(_smtp.Dir, "logins");

    public async Task InitializeAsync()
    {
        _port = Ports.Free();
        _smtp = Daemon.Start("/usr/bin/python3", "larsbot-smtp-auth-", dir =>
        {
            File.WriteAllText(Path.Combine(dir, "server.py"), Server);
            return [Path.Combine(dir, "server.py"), _port.ToString(), Path.Combine(dir, "logins")];
        });
        await _smtp.WaitUntilAsync(async () =>
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", _port);
            return true;
        }, TimeSpan.FromSeconds(15), "aiosmtpd with AUTH listening");
    }

    public async Task DisposeAsync() => await _smtp.DisposeAsync();

    /// <summary>Decides a digest and lets the outbox try to send it once with these SMTP settings; returns its outbox row.</summary>
    private async Task<(string State, string? Detail)> SendOnceAsync(string security)
    {
        using var h = new EngineHarness();
        await h.AlertAsync("backup1", "nightly backup done", "info");
        await h.Engine.RunDueAsync();
        var options = Options.Create(new EmailOptions
        {
            SmtpHost = "127.0.0.1", SmtpPort = _port, Security = security, From = "larsbot@example.com",
            Username = "larsbot", Password = Password,
        });
        Assert.Equal(1, await new EmailDigest(h.Db, h.Roster, h.Outbox, options, h.Clock, NullLogger<EmailDigest>.Instance).SendDueAsync(CancellationToken.None));
        var sender = h.Sender([new EmailNotifier(options)]);
        await sender.SendDueAsync(CancellationToken.None);
        await sender.DrainAsync();
        return await h.Db.ReadAsync(c => Dapper.SqlMapper.QuerySingleAsync<(string, string?)>(c,
            "SELECT o.state, a.detail FROM outbox o JOIN page_attempts a ON a.page_id = o.id WHERE o.channel = 'email'"));
    }

    [Fact]
    public async Task Without_TLS_the_digest_is_not_sent_rather_than_logging_in_in_plain_text()
    {
        // StartTlsWhenAvailable is MailKit's "TLS if offered": this server offers none, so the login would go in clear.
        // Given up at once (trying again would not add TLS), and said so where the operator looks.
        var (state, detail) = await SendOnceAsync("StartTlsWhenAvailable");
        Assert.Equal("failed", state);
        Assert.Contains("not logging in over plain text", detail);
        Assert.DoesNotContain(Password, detail);
        Assert.False(File.Exists(Logins), "the server received a login: " + (File.Exists(Logins) ? File.ReadAllText(Logins) : ""));
        Assert.False(File.Exists(Logins + ".mail"));

        // StartTls demands it: MailKit itself stops before any AUTH.
        (state, detail) = await SendOnceAsync("StartTls");
        Assert.Equal("failed", state);
        Assert.DoesNotContain(Password, detail);
        Assert.False(File.Exists(Logins));
    }
}
