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
/// failing SMTP server only delays it. Repeats are not listed again; the original shows how often it was seen.
/// </summary>
internal sealed class EmailDigest(Database db, TeamRoster roster, IOptions<EmailOptions> options, TimeProvider time,
    ILogger<EmailDigest> log) : BackgroundService
{
    private readonly EmailOptions _options = options.Value;

    private IReadOnlyList<string> Recipients =>
        _options.To.Count > 0 ? _options.To : roster.People.Where(p => p.Email is not null).Select(p => p.Email!).ToList();

    /// <summary>Sends one digest if there is anything new. Returns how many alerts it listed (0: nothing sent).</summary>
    public async Task<int> SendDueAsync(CancellationToken ct)
    {
        var last = await db.ReadAsync(c => c.ExecuteScalarAsync<long?>("SELECT MAX(last_alert_id) FROM email_digests")) ?? 0;
        var alerts = await db.ReadAsync(async c => (await c.QueryAsync<AlertRow>("""
            SELECT * FROM alerts WHERE level = 'info' AND id > @last AND handled_at IS NOT NULL AND duplicate_of IS NULL
            ORDER BY id LIMIT @max
            """, new { last, max = _options.MaxAlertsPerDigest })).ToList());
        if (alerts.Count == 0) return 0;
        var to = Recipients;
        if (to.Count == 0)
        {
            log.LogWarning("Info digest not sent: no Email:To and nobody in the roster has an e-mail address");
            return 0;
        }

        var message = Compose(alerts, to);
        using var client = new SmtpClient { Timeout = (int)_options.Timeout.TotalMilliseconds };
        await client.ConnectAsync(_options.SmtpHost, _options.SmtpPort, Enum.Parse<SecureSocketOptions>(_options.Security, ignoreCase: true), ct);
        if (_options.Username.Length > 0) await client.AuthenticateAsync(_options.Username, _options.Password, ct);
        await client.SendAsync(message, ct);
        await client.DisconnectAsync(true, ct);

        await db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO email_digests(sent_at, last_alert_id, alerts, recipients) VALUES (@at, @lastId, @n, @to)",
            new { at = UnixMs.From(time.GetUtcNow()), lastId = alerts[^1].Id, n = alerts.Count, to = string.Join(", ", to) }, tx), ct);
        log.LogInformation("Info digest with {Count} alert(s) sent to {Recipients} recipient(s)", alerts.Count, to.Count);
        return alerts.Count;
    }

    private MimeMessage Compose(List<AlertRow> alerts, IReadOnlyList<string> to)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(_options.From));
        foreach (var r in to) message.To.Add(MailboxAddress.Parse(r));
        var hosts = alerts.Select(a => a.Host).Distinct().ToList();
        message.Subject = $"Larsbot info digest: {alerts.Count} alert{(alerts.Count == 1 ? "" : "s")}" +
                          $" ({string.Join(", ", hosts.Take(3))}{(hosts.Count > 3 ? $" +{hosts.Count - 3} more" : "")})";
        var body = new StringBuilder();
        foreach (var a in alerts)
        {
            var at = UnixMs.To(a.ReceivedAt).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            body.Append(at).Append(" UTC  ").Append(a.Host).Append(" - ").Append(a.Message);
            if (a.Repeats > 0) body.Append(" (seen ").Append(a.Repeats + 1).Append(" times)");
            body.Append('\n');
        }
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
                await Task.Delay(_options.DigestEvery, time, stoppingToken);
                // Drain a backlog larger than one digest in the same interval.
                while (await SendDueAsync(stoppingToken) >= _options.MaxAlertsPerDigest) { }
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
        services.Configure<EmailOptions>(config.GetSection("Email"));
        services.AddSingleton<EmailDigest>();
        services.AddHostedService(sp => sp.GetRequiredService<EmailDigest>());
        return services;
    }
}
