using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using System.Text;
using Dapper;
using Larsbot.Paging;
using Larsbot.Roster;
using Larsbot.Storage;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Larsbot.Email;

/// <summary>
/// Info alerts wake nobody and are not said in the channel; they go out as one e-mail digest every
/// Email:DigestEvery. The digest is derived from the rows (info alerts after the last digest), so a restart or a
/// failing SMTP server only delays it. A text is listed once per digest with how often it was seen: unkeyed info
/// alerts are rows of their own (recorded at intake), keyed ones count up on their original.
/// </summary>
internal sealed class EmailDigest(Database db, TeamRoster roster, IOptions<EmailOptions> options, TimeProvider time,
    ILogger<EmailDigest> log) : BackgroundService
{
    private readonly EmailOptions _options = options.Value;

    private IReadOnlyList<string> Recipients =>
        _options.To.Count > 0 ? _options.To : roster.People.Where(p => p.Email is not null).Select(p => p.Email!).ToList();

    // Only up to the first alert the engine has not handled yet: a digest that went past it would never list it
    // (unkeyed info alerts are handled at intake, so later ones are often ready before an earlier keyed one).
    private const string NewInfo = """
        FROM alerts WHERE level = 'info' AND id > @last AND handled_at IS NOT NULL AND duplicate_of IS NULL
          AND id < COALESCE((SELECT MIN(id) FROM alerts WHERE handled_at IS NULL), 9223372036854775807)
        """;

    /// <summary>When the next digest may go: never sooner than Email:DigestEvery after the last one (null: none sent yet).</summary>
    public async Task<DateTimeOffset?> NextAllowedAtAsync() =>
        await db.ReadAsync(c => c.ExecuteScalarAsync<long?>("SELECT MAX(sent_at) FROM email_digests")) is { } at
            ? UnixMs.To(at) + _options.DigestEvery : null;

    /// <summary>
    /// Sends one digest if there is anything new and the last one went at least Email:DigestEvery ago: never two back
    /// to back, however many info alerts arrive (a flood is one digest listing the first Email:MaxAlertsPerDigest
    /// and counting the rest). Returns how many alerts it covered (0: nothing sent).
    /// </summary>
    public async Task<int> SendDueAsync(CancellationToken ct)
    {
        if (await NextAllowedAtAsync() is { } allowed && allowed > time.GetUtcNow()) return 0;
        var last = await db.ReadAsync(c => c.ExecuteScalarAsync<long?>("SELECT MAX(last_alert_id) FROM email_digests")) ?? 0;
        var (total, lastId) = await db.ReadAsync(c => c.QuerySingleAsync<(long Total, long? LastId)>("SELECT COUNT(*), MAX(id) " + NewInfo, new { last }));
        if (total == 0 || lastId is null) return 0;
        var alerts = await db.ReadAsync(async c => (await c.QueryAsync<AlertRow>(
            "SELECT * " + NewInfo + " ORDER BY id LIMIT @max", new { last, max = _options.MaxAlertsPerDigest })).ToList());
        var to = Recipients;
        if (to.Count == 0)
        {
            log.LogWarning("Info digest not sent: no Email:To and nobody in the roster has an e-mail address");
            return 0;
        }

        var message = Compose(alerts, to, (int)total - alerts.Count);
        using var client = new SmtpClient { Timeout = (int)_options.Timeout.TotalMilliseconds };
        await client.ConnectAsync(_options.SmtpHost, _options.SmtpPort, Enum.Parse<SecureSocketOptions>(_options.Security, ignoreCase: true), ct);
        if (_options.Username.Length > 0)
        {
            // StartTlsWhenAvailable carries on in plain text when the server (or someone in between) offers no
            // STARTTLS: then the password stays here.
            if (!client.IsSecure)
                throw new InvalidOperationException($"SMTP server {_options.SmtpHost}:{_options.SmtpPort} gave no TLS (Email:Security {_options.Security}); " +
                                                    "not logging in over plain text. Use Email:Security StartTls or SslOnConnect");
            await client.AuthenticateAsync(_options.Username, _options.Password, ct);
        }
        await client.SendAsync(message, ct);
        await client.DisconnectAsync(true, ct);

        await db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO email_digests(sent_at, last_alert_id, alerts, recipients) VALUES (@at, @lastId, @n, @to)",
            new { at = UnixMs.From(time.GetUtcNow()), lastId, n = total, to = string.Join(", ", to) }, tx), ct);
        log.LogInformation("Info digest with {Count} alert(s) sent to {Recipients} recipient(s)", total, to.Count);
        return (int)total;
    }

    private MimeMessage Compose(List<AlertRow> alerts, IReadOnlyList<string> to, int notListed)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(_options.From));
        foreach (var r in to) message.To.Add(MailboxAddress.Parse(r));
        // One line per host and text, at its first sighting, in the order they first came.
        var lines = alerts.GroupBy(a => (a.Host, a.Message))
            .Select(g => (First: g.First(), Seen: g.Sum(a => 1 + a.Repeats)))
            .ToList();
        var hosts = lines.Select(l => l.First.Host).Distinct().ToList();
        message.Subject = $"Larsbot info digest: {lines.Count} alert{(lines.Count == 1 ? "" : "s")}" +
                          $" ({string.Join(", ", hosts.Take(3))}{(hosts.Count > 3 ? $" +{hosts.Count - 3} more" : "")})";
        var body = new StringBuilder();
        foreach (var (a, seen) in lines)
        {
            var at = UnixMs.To(a.ReceivedAt).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            body.Append(at).Append(" UTC  ").Append(a.Host).Append(" - ").Append(a.Message);
            if (seen > 1) body.Append(" (seen ").Append(seen).Append(" times)");
            body.Append('\n');
        }
        if (notListed > 0) body.Append("(+").Append(notListed).Append(" more info alerts not listed: see the status page or the database)\n");
        message.Body = new TextPart("plain") { Text = body.ToString() };
        return message;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.IsConfigured) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // From the rows: a restart neither sends a digest right after the last one nor waits a whole
                // interval more than it has to.
                var now = time.GetUtcNow();
                var next = await NextAllowedAtAsync() ?? now + _options.DigestEvery;
                if (next > now) await Task.Delay(next - now, time, stoppingToken);
                if (await SendDueAsync(stoppingToken) == 0) await Task.Delay(_options.DigestEvery, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // The SMTP password never appears in MailKit's messages; the alerts stay due for the next interval.
                log.LogWarning("Info digest not sent, trying again in {Every}: {Kind}: {Message}", _options.DigestEvery, e.GetType().Name, e.Message);
            }
        }
    }
}

internal static class EmailHosting
{
    public static IServiceCollection AddEmailDigest(this IServiceCollection services, Microsoft.Extensions.Configuration.IConfiguration config)
    {
        if (Microsoft.Extensions.Configuration.ConfigurationBinder.Get<EmailOptions>(config.GetSection("Email")) is { } email
            && email.Validate().ToList() is { Count: > 0 } problems)
            throw new Hosting.StartupException(string.Join("; ", problems));
        services.Configure<EmailOptions>(config.GetSection("Email"));
        services.AddSingleton<EmailDigest>();
        services.AddHostedService(sp => sp.GetRequiredService<EmailDigest>());
        return services;
    }
}
