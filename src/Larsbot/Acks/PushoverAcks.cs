using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Larsbot.Intake;
using Larsbot.Notify;
using Larsbot.Outbox;
using Larsbot.Paging;
using Larsbot.Roster;
using Larsbot.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Acks;

/// <summary>
/// Acknowledging a Pushover emergency (priority 2) page on the phone acks in Larsbot. Two ways, either enough:
/// Pushover's callback to /pushover/callback/{secret} (unsigned, so the secret in the URL proves it), and polling
/// the receipts API for open pages (works without a public URL, and catches a callback that never arrived).
/// Only pages whose escalation is still open are acked, checked in the ack's own transaction, so a late or repeated
/// callback (or one racing the poll) never starts or renews ack mode.
/// </summary>
internal sealed class PushoverAcks(Database db, AckStore acks, TeamRoster roster, IOptions<PushoverOptions> options,
    IHttpClientFactory httpFactory, TimeProvider time, ILogger<PushoverAcks> log, DeliveryReports reports) : BackgroundService, Setup.ILeaderOnly
{
    private readonly PushoverOptions _options = options.Value;

    public bool Enabled => _options.IsConfigured && _options.Priority == 2;

    /// <summary>Acks as the person the page went to, if the page's escalation is still open. True when it acked.</summary>
    public async Task<bool> AckReceiptAsync(string receipt, string how, CancellationToken ct)
    {
        var page = await db.ReadAsync(c => c.QuerySingleOrDefaultAsync<PageRow>("""
            SELECT p.* FROM pages p JOIN countdowns c ON c.id = p.countdown_id
            WHERE p.channel = 'push' AND p.provider_id = @receipt AND c.state IN ('counting','paged','escalated')
            LIMIT 1
            """, new { receipt }));
        if (page is null || roster.FindById(page.PersonId) is not { } person) return false;
        await reports.RecordPushAckedAsync(receipt, ct); // the status page and `lars status` show "push neilj acked"
        // Checked again inside the ack's transaction: the callback and the poll (or a repeated callback) may race here.
        return await acks.AckIfOpenAsync($"{person.Id} ({how})", person, "pushover", page.CountdownId!.Value, ct);
    }

    /// <summary>One pass over the receipts of open emergency pages.</summary>
    public async Task PollOnceAsync(CancellationToken ct)
    {
        var receipts = await db.ReadAsync(async c => (await c.QueryAsync<string>("""
            SELECT DISTINCT p.provider_id FROM pages p JOIN countdowns c ON c.id = p.countdown_id
            WHERE p.channel = 'push' AND p.state = 'sent' AND p.provider_id IS NOT NULL AND c.state IN ('counting','paged','escalated')
            """)).ToList());
        var http = httpFactory.CreateClient(NotifyServiceCollectionExtensions.PushoverHttpClient);
        foreach (var receipt in receipts)
        {
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(_options.Timeout);
                var url = $"{_options.BaseUrl.TrimEnd('/')}/1/receipts/{Uri.EscapeDataString(receipt)}.json?token={Uri.EscapeDataString(_options.AppToken)}";
                using var r = await http.GetAsync(url, cts.Token);
                if (!r.IsSuccessStatusCode) continue;
                using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync(cts.Token));
                if (doc.RootElement.TryGetProperty("acknowledged", out var a) && a.ValueKind == JsonValueKind.Number && a.GetInt32() == 1)
                    await AckReceiptAsync(receipt, "pushover", ct);
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                // The app token is in the URL: log the kind of failure only.
                log.LogWarning("Pushover receipt poll failed: {Kind}", e.GetType().Name);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.ReceiptPollEvery, time, stoppingToken);
                await PollOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                log.LogError(e, "Pushover receipt poll pass failed");
            }
        }
    }
}

internal static class PushoverAckEndpoint
{
    public static IServiceCollection AddPushoverAcks(this IServiceCollection services)
    {
        services.AddSingleton<PushoverAcks>();
        services.AddHostedService(sp => sp.GetRequiredService<PushoverAcks>());
        return services;
    }

    public static IEndpointRouteBuilder MapPushoverAcks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/pushover/callback/{secret}", async (string secret, HttpContext http, IntakeGate gate, PushoverAcks acks,
            IOptions<PushoverOptions> options) =>
        {
            if (gate.CheckNetwork(http.Connection.RemoteIpAddress) is { } denied) return Results.Text(denied, statusCode: 403);
            var expected = options.Value.CallbackSecret;
            if (!acks.Enabled || expected.Length == 0 ||
                !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
                return Results.NotFound();
            if (!http.Request.HasFormContentType) return Results.Text("form expected", statusCode: 400);
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var receipt = form["receipt"].FirstOrDefault();
            if (string.IsNullOrEmpty(receipt) || form["acknowledged"].FirstOrDefault() != "1") return Results.Text("ignored");
            return Results.Text(await acks.AckReceiptAsync(receipt, "pushover", http.RequestAborted) ? "acked" : "nothing open for that receipt");
        });
        return app;
    }
}
