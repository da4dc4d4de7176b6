using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using System.Text;
using Dapper;
using Larsbot.Outbox;
using Larsbot.Paging;
using Larsbot.Roster;
using Larsbot.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Email;

/// <summary>
/// Info alerts wake nobody and are not said in the channel; they go out as one e-mail digest every
/// Email:DigestEvery. The digest is derived from the rows (info alerts after the last digest), so a restart or a
/// failing SMTP server only delays it. A text is listed once per digest with how often it was seen: unkeyed info
/// alerts are rows of their own (recorded at intake), keyed ones count up on their original.
/// </summary>
internal sealed class EmailDigest(Database db, TeamRoster roster, OutboxStore outbox, IOptions<EmailOptions> options, TimeProvider time,
    ILogger<EmailDigest> log, HandledMark? mark = null) : BackgroundService, Setup.ILeaderOnly
{
    internal sealed class InfoCount
    {
        public long Total { get; set; }
        public long? LastId { get; set; }
    }

    private readonly EmailOptions _options = options.Value;
    /// <summary>The engine's handled mark: a digest lists only alerts below the first unhandled one.</summary>
    internal HandledMark Mark { get; } = mark ?? new HandledMark(db);

    private IReadOnlyList<string> Recipients =>
        _options.To.Count > 0 ? _options.To : roster.People.Where(p => p.Email is not null).Select(p => p.Email!).ToList();

    // Only up to the first alert the engine has not handled yet: a digest that went past it would never list it
    // (unkeyed info alerts are handled at intake, so later ones are often ready before an earlier keyed one).
    private const string NewInfo = """
        FROM alerts WHERE level = 'info' AND id > @last AND handled_at IS NOT NULL AND duplicate_of IS NULL
          AND id < COALESCE((SELECT MIN(id) FROM alerts WHERE id > @after AND handled_at IS NULL), 9223372036854775807)
        """;

    /// <summary>When the next digest may go: never sooner than Email:DigestEvery after the last one (null: none sent yet).</summary>
    public async Task<DateTimeOffset?> NextAllowedAtAsync() =>
        await db.ReadAsync(c => c.ExecuteScalarAsync<long?>("SELECT MAX(sent_at) FROM email_digests")) is { } at
            ? UnixMs.To(at) + _options.DigestEvery : null;

    /// <summary>
    /// Decides one digest (a row in the outbox, which sends it) if there is anything new and the last one went at least Email:DigestEvery ago: never two back
    /// to back, however many info alerts arrive (a flood is one digest listing the first Email:MaxAlertsPerDigest
    /// and counting the rest). Returns how many alerts it covered (0: nothing sent).
    /// </summary>
    public async Task<int> SendDueAsync(CancellationToken ct)
    {
        if (await NextAllowedAtAsync() is { } allowed && allowed > time.GetUtcNow()) return 0;
        var last = await db.ReadAsync(c => c.ExecuteScalarAsync<long?>("SELECT MAX(last_alert_id) FROM email_digests")) ?? 0;
        var after = Mark.Id;
        var count = await db.ReadAsync(c => c.QuerySingleAsync<InfoCount>("SELECT COUNT(*) AS total, MAX(id) AS last_id " + NewInfo, new { last, after }));
        var (total, lastId) = (count.Total, count.LastId);
        if (total == 0 || lastId is null) return 0;
        var alerts = await db.ReadAsync(async c => (await c.QueryAsync<AlertRow>(
            "SELECT * " + NewInfo + " ORDER BY id LIMIT @max", new { last, after, max = _options.MaxAlertsPerDigest })).ToList());
        var to = Recipients;
        if (to.Count == 0)
        {
            log.LogWarning("Info digest not sent: no Email:To and nobody in the roster has an e-mail address");
            return 0;
        }

        // Decided here, sent by the outbox (the 'email' notifier), with its retries: the digest row and the message row
        // commit together, so a crash or a failing SMTP server neither loses the digest nor sends it twice over.
        var (subject, text) = Compose(alerts, (int)total - alerts.Count);
        var now = time.GetUtcNow();
        await db.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(
                "INSERT INTO email_digests(sent_at, last_alert_id, alerts, recipients) VALUES (@at, @lastId, @n, @to)",
                new { at = UnixMs.From(now), lastId, n = total, to = string.Join(", ", to) }, tx);
            await OutboxStore.EmailAsync(c, tx, now, string.Join(", ", to), subject, text);
        }, ct);
        outbox.Wake.Set();
        log.LogInformation("Info digest with {Count} alert(s) sent to {Recipients} recipient(s)", total, to.Count);
        return (int)total;
    }

    private static (string Subject, string Text) Compose(List<AlertRow> alerts, int notListed)
    {
        // One line per host and text, at its first sighting, in the order they first came.
        var lines = alerts.GroupBy(a => (a.Host, a.Message))
            .Select(g => (First: g.First(), Seen: g.Sum(a => 1 + a.Repeats)))
            .ToList();
        var hosts = lines.Select(l => l.First.Host).Distinct().ToList();
        var subject = $"Larsbot info digest: {lines.Count} alert{(lines.Count == 1 ? "" : "s")}" +
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
        return (subject, body.ToString());
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
                // The disk failing: the alerts stay due for the next interval.
                log.LogWarning("Info digest not decided, trying again in {Every}: {Kind}: {Message}", _options.DigestEvery, e.GetType().Name, e.Message);
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
            throw new Setup.StartupException(string.Join("; ", problems));
        services.Configure<EmailOptions>(config.GetSection("Email"));
        services.AddSingleton<EmailDigest>();
        services.AddHostedService(sp => sp.GetRequiredService<EmailDigest>());
        services.AddSingleton<Notify.INotifier, EmailNotifier>();
        return services;
    }
}
