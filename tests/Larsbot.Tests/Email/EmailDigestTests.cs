using System.Net.Sockets;
using Dapper;
using Larsbot.Email;
using Larsbot.Intake;
using Larsbot.Tests.Paging;
using Larsbot.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Larsbot.Tests.Email;

/// <summary>The info digest delivered over SMTP to a real server on loopback (Debian's aiosmtpd, into a Maildir).</summary>
public sealed class EmailDigestTests : IAsyncLifetime
{
    private Daemon _smtp = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _port = Ports.Free();
        _smtp = Daemon.Start("/usr/bin/aiosmtpd", "larsbot-smtp-", dir =>
            ["-n", "-l", $"127.0.0.1:{_port}", "-c", "aiosmtpd.handlers.Mailbox", Path.Combine(dir, "Maildir")]);
        await _smtp.WaitUntilAsync(async () =>
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", _port);
            return true;
        }, TimeSpan.FromSeconds(15), "aiosmtpd listening");
    }

    public async Task DisposeAsync() => await _smtp.DisposeAsync();

    private string[] Delivered()
    {
        var dir = Path.Combine(_smtp.Dir, "Maildir", "new");
        return Directory.Exists(dir) ? Directory.GetFiles(dir).Order().Select(File.ReadAllText).ToArray() : [];
    }

    private Digester Digest(EngineHarness h, Action<EmailOptions>? tweak = null)
    {
        var o = new EmailOptions { SmtpHost = "127.0.0.1", SmtpPort = _port, Security = "None", From = "larsbot@example.com" };
        tweak?.Invoke(o);
        var options = Options.Create(o);
        return new Digester(new EmailDigest(h.Db, h.Roster, h.Outbox, options, h.Clock, NullLogger<EmailDigest>.Instance),
            h.Sender([new EmailNotifier(options)]));
    }

    /// <summary>The digest decided (an outbox row), then what the outbox's sender does with it, as in the host.</summary>
    private sealed record Digester(EmailDigest Digest, OutboxSender Sender)
    {
        public async Task<int> SendDueAsync(CancellationToken ct)
        {
            var n = await Digest.SendDueAsync(ct);
            await Sender.SendDueAsync(ct);
            await Sender.DrainAsync();
            return n;
        }
    }

    [Fact]
    public async Task Info_alerts_go_out_as_one_digest_to_the_roster_and_only_once()
    {
        using var h = new EngineHarness();
        await h.AlertAsync("backup1", "nightly backup done", "info");
        await h.AlertAsync("backup1", "nightly backup done", "info"); // a repeat: counted, not listed twice
        await h.AlertAsync("mx1", "queue at 300", "info");
        await h.AlertAsync("db1", "lag", "irc");
        await h.Engine.RunDueAsync();
        var digest = Digest(h);

        Assert.Equal(3, await digest.SendDueAsync(CancellationToken.None)); // three alerts, two lines
        var mail = Assert.Single(Delivered());
        Assert.Contains("Subject: Larsbot info digest: 2 alerts (backup1, mx1)", mail);
        Assert.Contains("To: brong@example.com, robn@example.com, neilj@example.com", mail);
        Assert.Contains("backup1 - nightly backup done (seen 2 times)", mail);
        Assert.Contains("mx1 - queue at 300", mail);
        Assert.DoesNotContain("db1", mail);

        // Nothing new: nothing sent. A new info alert: the next digest, an interval later, lists only it.
        h.Clock.Advance(TimeSpan.FromMinutes(15));
        Assert.Equal(0, await digest.SendDueAsync(CancellationToken.None));
        await h.AlertAsync("web1", "cert renews in 20 days", "info");
        await h.Engine.RunDueAsync();
        Assert.Equal(1, await digest.SendDueAsync(CancellationToken.None));
        Assert.Equal(2, Delivered().Length);
        // Found by its content, not by file name: Maildir names sort by time only to the second.
        var second = Assert.Single(Delivered(), m => m.Contains("web1 - cert renews in 20 days", StringComparison.Ordinal));
        Assert.DoesNotContain("mx1", second.Split("\n\n", 2)[1]);
    }

    [Fact]
    public async Task A_digest_stops_before_an_alert_the_engine_has_not_handled_yet()
    {
        using var h = new EngineHarness();
        // Keyed info waits for the engine; unkeyed info after it is recorded at once. The digest must not go past
        // the keyed one, or it would never be listed.
        var r = await h.Intake.AcceptAsync(new AlertInput("backup1", "info", "backup late") { Key = "backup-nightly" }, "test");
        Assert.True(r.Ok, r.Error);
        await h.AlertAsync("mx1", "queue at 300", "info");
        var digest = Digest(h);
        Assert.Equal(0, await digest.SendDueAsync(CancellationToken.None));

        await h.Engine.RunDueAsync();
        Assert.Equal(2, await digest.SendDueAsync(CancellationToken.None));
        var mail = Assert.Single(Delivered());
        Assert.Contains("backup1 - backup late", mail);
        Assert.Contains("mx1 - queue at 300", mail);
    }

    [Fact]
    public async Task A_failed_send_is_retried_by_the_outbox_until_the_server_takes_it()
    {
        // Intended since the digest became an outbox row: a send that fails is retried with the outbox's backoff (it
        // used to be composed again at the next interval).
        using var h = new EngineHarness();
        await h.AlertAsync("backup1", "done", "info");
        await h.Engine.RunDueAsync();
        var down = Digest(h, o => o.SmtpPort = Ports.Free()); // nothing listens there
        Assert.Equal(1, await down.SendDueAsync(CancellationToken.None));
        Assert.Empty(Delivered());
        Assert.Equal(("due", 1L), await h.Db.ReadAsync(c => c.QuerySingleAsync<(string, long)>("SELECT state, attempts FROM outbox WHERE channel = 'email'")));

        // The server is back (this notifier reaches the live one); the retry is due after its backoff.
        var up = Digest(h);
        Assert.Equal(0, await up.SendDueAsync(CancellationToken.None)); // not decided twice, not due yet either
        Assert.Empty(Delivered());
        h.Clock.Advance(h.OutboxOptions.RetryMinDelay * 2);
        await up.SendDueAsync(CancellationToken.None);
        Assert.Contains("backup1 - done", Assert.Single(Delivered()));
        Assert.Equal("sent", await h.Db.ReadAsync(c => c.ExecuteScalarAsync<string>("SELECT state FROM outbox WHERE channel = 'email'")));
    }

    [Fact]
    public async Task An_info_flood_is_one_digest_an_interval_never_two_back_to_back()
    {
        using var h = new EngineHarness();
        for (var i = 0; i < 12; i++) await h.AlertAsync($"host{i}", $"flood {i}", "info");
        await h.Engine.RunDueAsync();
        var digest = Digest(h, o => o.MaxAlertsPerDigest = 5);

        Assert.Equal(12, await digest.SendDueAsync(CancellationToken.None));
        var mail = Assert.Single(Delivered());
        Assert.Contains("host4 - flood 4", mail);
        Assert.DoesNotContain("host5 - flood 5", mail);
        Assert.Contains("(+7 more info alerts not listed", mail);

        // More arrive at once: nothing goes until the interval has passed since the last digest.
        for (var i = 0; i < 12; i++) await h.AlertAsync($"late{i}", $"flood {i}", "info");
        await h.Engine.RunDueAsync();
        Assert.Equal(0, await digest.SendDueAsync(CancellationToken.None));
        h.Clock.Advance(TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await digest.SendDueAsync(CancellationToken.None));
        Assert.Single(Delivered());
        h.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(12, await digest.SendDueAsync(CancellationToken.None));
        Assert.Equal(2, Delivered().Length);
    }
}
