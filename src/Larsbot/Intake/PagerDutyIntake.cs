using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Larsbot.Intake;

/// <summary>
/// POST /v2/enqueue: PagerDuty's Events API v2, answered as PagerDuty does, so a tool that can page PagerDuty can
/// page through Larsbot by changing only the URL. The routing_key is the Larsbot intake token (when tokens are set).
/// </summary>
internal static class PagerDutyIntake
{
    public static IEndpointRouteBuilder MapPagerDuty(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v2/enqueue", HandleAsync);
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext http, AlertIntake intake, IntakeGate gate,
        IOptions<IntakeOptions> intakeOptions, IOptions<PagerDutyOptions> options)
    {
        var remote = http.Connection.RemoteIpAddress;
        if (gate.CheckNetwork(remote) is { } denied) return Invalid(403, "Forbidden", denied);
        // A browser cannot send application/json to another site without a preflight the bot never grants.
        if (CrossSite.NotJson(http.Request) is { } notJson) return Invalid(415, "Unsupported Media Type", notJson);
        var body = await HttpAuth.ReadCappedAsync(http.Request, intakeOptions.Value.MaxBodyBytes, http.RequestAborted);
        if (body is null) return Invalid(413, "Payload too large", $"body over {intakeOptions.Value.MaxBodyBytes} bytes");

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return Invalid(400, "Unrecognized object", "Event object format is unrecognized", "JSON parse error");
        }
        using var _ = doc;
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) return Invalid(400, "Unrecognized object", "Event object format is unrecognized", "JSON parse error");

        var (bearer, _) = HttpAuth.Bearer(http.Request);
        // PagerDuty tools always send a routing_key. With no intake tokens configured it is not a credential (the
        // network rules decide, as for curl), so a tool works on the defaults; with tokens it must be one of them.
        var routingKey = gate.HasTokens ? Str(root, "routing_key") : null;
        var auth = gate.Authenticate(remote, routingKey ?? bearer);
        if (!auth.Ok) return Invalid(auth.Status, auth.Status == 401 ? "Unauthorized" : "Forbidden", auth.Reason!);
        var caller = auth.Caller!;
        if (caller.WithoutToken && CrossSite.ForeignOrigin(http.Request) is { } foreign) return Invalid(403, "Forbidden", foreign);

        var errors = new List<string>();
        var action = Str(root, "event_action");
        var dedupKey = Str(root, "dedup_key");
        if (action is not ("trigger" or "acknowledge" or "resolve")) errors.Add("'event_action' must be one of trigger, acknowledge, resolve");
        if (action is "acknowledge" or "resolve" && string.IsNullOrEmpty(dedupKey)) errors.Add("'dedup_key' is required for acknowledge and resolve");
        string? summary = null, source = null, level = null;
        if (action == "trigger")
        {
            if (!root.TryGetProperty("payload", out var p) || p.ValueKind != JsonValueKind.Object)
                errors.Add("'payload' is missing or not an object");
            else
            {
                summary = Str(p, "summary");
                source = HttpAuth.CleanHost(Str(p, "source"));
                var severity = Str(p, "severity");
                if (string.IsNullOrWhiteSpace(summary)) errors.Add("'payload.summary' is missing or blank");
                if (source is null) errors.Add("'payload.source' is missing or blank");
                if (severity is null || !options.Value.SeverityLevels.TryGetValue(severity, out level))
                    errors.Add("'payload.severity' must be one of critical, error, warning, info");
            }
        }
        if (errors.Count > 0) return Invalid(400, "invalid event", "Event object is invalid", [.. errors]);
        if (source is not null && IntakeGate.CheckHost(caller, source) is { } notYours) return Invalid(403, "Forbidden", notYours);

        // PagerDuty makes up a key for a trigger without one, and returns it so the tool can resolve later.
        dedupKey ??= Guid.NewGuid().ToString("N");
        var key = "pd:" + dedupKey;
        var result = action == "trigger"
            ? await intake.AcceptAsync(new AlertInput(source, level, summary) { Key = key }, "pagerduty", http.RequestAborted, caller)
            // By key only: a token limited to some hosts is checked against the hosts of the alerts the key names.
            : await intake.RecordEventAsync(action!, key, null, null, "pagerduty", http.RequestAborted, caller);
        if (result.RateLimited)
        {
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(result.RetryAfter!.Value.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Invalid(429, "throttle event", result.Error!);
        }
        if (!result.Ok) return Invalid(result.Status, result.Status switch { 503 => "error", 403 => "Forbidden", _ => "invalid event" }, result.Error!);
        return IntakeJson.Answer(new PagerDutyAccepted("success", "Event processed", dedupKey), IntakeJson.Web.PagerDutyAccepted, 202);
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static IResult Invalid(int status, string short_, string message, params string[] errors) =>
        IntakeJson.Answer(new PagerDutyRefused(short_, message, errors.Length > 0 ? errors : [message]), IntakeJson.Web.PagerDutyRefused, status);
}
