using System.Security.Cryptography;
using Larsbot.Intake;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.StatusPage;

/// <summary>
/// GET / (the page), GET /live (its changing part, polled), GET /status.json (the same for scripts) and
/// GET /reports/{file} (past payout reports). Read-only, and guarded by the intake's rule: loopback (and
/// Intake:AllowedNetworks without tokens) freely, anyone else with an intake token or a viewer token
/// (StatusPage:Tokens: opens these pages and no other door) as <c>Authorization: Bearer</c> or <c>?token=</c>.
/// One rule means one place to lock the HTTP port down.
/// </summary>
internal static class StatusPageEndpoints
{
    public static IServiceCollection AddStatusPage(this IServiceCollection services, IConfiguration config)
    {
        var options = config.GetSection("StatusPage").Get<StatusPageOptions>() ?? new StatusPageOptions();
        if (options.Validate(config.GetSection("Intake").Get<IntakeOptions>() ?? new IntakeOptions(),
                config.GetSection("Acks").Get<Acks.AckOptions>() ?? new Acks.AckOptions()).ToList() is { Count: > 0 } problems)
            throw new Setup.StartupException(string.Join("; ", problems));
        services.Configure<StatusPageOptions>(config.GetSection("StatusPage"));
        services.AddSingleton<ViewerTokens>();
        services.AddSingleton<StatusStore>();
        services.AddSingleton<ReportFiles>();
        services.AddSingleton<LedgerSummary>();
        return services;
    }

    public static IEndpointRouteBuilder MapStatusPage(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").AddEndpointFilter(async (ctx, next) =>
            Authorise(ctx.HttpContext) ?? await next(ctx));
        group.MapGet("/", PageAsync);
        group.MapGet("/live", async (HttpContext http, StatusStore store) =>
        {
            Secure(http, nonce: null);
            return Results.Content(StatusPageHtml.Live(await store.ReadAsync()), "text/html; charset=utf-8");
        });
        group.MapGet("/status.json", async (HttpContext http, StatusStore store) =>
        {
            Secure(http, nonce: null);
            return Results.Json(StatusJson.From(await store.ReadAsync()), StatusPageJson.Web.StatusDocument);
        });
        group.MapGet("/reports/{file}", (HttpContext http, string file, ReportFiles reports) =>
        {
            if (reports.Find(file) is not { } path) return Results.NotFound();
            Secure(http, nonce: null);
            // The reports are our own HTML (no script); the sandbox keeps it that way even if one were edited by hand.
            http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";
            return Results.File(path, ReportFiles.ContentType(file));
        });
        return app;
    }

    private static async Task<IResult> PageAsync(HttpContext http, StatusStore store, LedgerSummary ledger, ReportFiles reports,
        ILoggerFactory logs)
    {
        var snapshot = await store.ReadAsync();
        Ledger.PayoutReport? month = null;
        try
        {
            month = await ledger.ThisMonthAsync(http.RequestAborted);
        }
        catch (Exception e) when (Larsbot.Storage.Database.IsDatabaseFault(e))
        {
            // A ledger problem (a locked or read-only disk) must not hide who is on duty and what is open.
            logs.CreateLogger("Larsbot.StatusPage").LogWarning(e, "Status page: this month's ledger could not be computed");
        }
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        Secure(http, nonce);
        var token = http.Request.Query["token"].ToString();
        var query = token.Length > 0 ? "?token=" + Uri.EscapeDataString(token) : "";
        return Results.Content(StatusPageHtml.Page(snapshot, month, reports.List(), query, nonce), "text/html; charset=utf-8");
    }

    /// <summary>
    /// The intake's rule: network first (403), then the token (401). Null when the caller may look. A viewer token
    /// also opens the page from outside loopback when no intake tokens or networks are set (it can only look);
    /// Intake:AllowedNetworks still shuts out every other address.
    /// </summary>
    internal static IResult? Authorise(HttpContext http)
    {
        var gate = http.RequestServices.GetRequiredService<IntakeGate>();
        var viewers = http.RequestServices.GetRequiredService<ViewerTokens>();
        var networksSet = http.RequestServices.GetRequiredService<IOptions<IntakeOptions>>().Value.AllowedNetworks.Count > 0;
        var remote = http.Connection.RemoteIpAddress;
        var denied = gate.CheckNetwork(remote);
        if (denied is not null && (networksSet || !viewers.Any)) return Results.Text(denied + "\n", "text/plain", statusCode: 403);
        string? token = null;
        if (http.Request.Headers.Authorization.ToString() is { Length: > 0 } authz)
        {
            if (!authz.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                return Results.Text("Authorization must be 'Bearer <token>'\n", "text/plain", statusCode: 401);
            token = authz["Bearer ".Length..].Trim();
        }
        token ??= http.Request.Query["token"].ToString();
        if (viewers.Matches(token)) return null;
        if (denied is not null)
            return Results.Text((string.IsNullOrEmpty(token) ? "missing token: send 'Authorization: Bearer <token>' or add ?token=<token> to the address" : "bad token") + "\n",
                "text/plain", statusCode: 401);
        var auth = gate.Authenticate(remote, token);
        if (!auth.Ok)
            return Results.Text((auth.Reason!.StartsWith("missing token", StringComparison.Ordinal)
                ? "missing token: send 'Authorization: Bearer <token>' or add ?token=<token> to the address"
                : auth.Reason) + "\n", "text/plain", statusCode: auth.Status);
        // A token limited to some hosts belongs to a machine that sends alerts; the page shows people's phone numbers.
        if (auth.Caller!.Hosts is not null)
            return Results.Text("this token may only send alerts; use a shared token (one without Hosts) to read the status page\n", "text/plain", statusCode: 403);
        return null;
    }

    /// <summary>Never cached (a token may be in the address), never framed, nothing from elsewhere.</summary>
    private static void Secure(HttpContext http, string? nonce)
    {
        var h = http.Response.Headers;
        h.CacheControl = "no-store";
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h["Referrer-Policy"] = "no-referrer";
        h.ContentSecurityPolicy = nonce is null
            ? "default-src 'none'; frame-ancestors 'none'"
            : $"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    }
}
