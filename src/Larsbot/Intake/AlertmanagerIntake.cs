using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Larsbot.Intake;

/// <summary>
/// POST /api/alertmanager: Alertmanager's webhook_config payload (version 4; Grafana's webhook contact point sends
/// the same shape as version 1). Firing alerts become Larsbot alerts keyed by fingerprint; resolved ones resolve.
/// Alertmanager retries 5xx and never a 4xx, so 5xx means only "could not store, send it again"; a payload that can
/// never work is a 4xx. Parsed tolerantly: unknown fields are ignored.
/// </summary>
internal static class AlertmanagerIntake
{
    public static IEndpointRouteBuilder MapAlertmanager(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/alertmanager", HandleAsync);
        return app;
    }

    private sealed record Parsed(string Status, string Host, string Level, string Message, string Key);

    private static async Task<IResult> HandleAsync(HttpContext http, AlertIntake intake, IntakeGate gate,
        IOptions<IntakeOptions> intakeOptions, IOptions<AlertmanagerOptions> options, HostRateLimiter limiter)
    {
        var remote = http.Connection.RemoteIpAddress;
        if (gate.CheckNetwork(remote) is { } denied) return Error(403, denied);
        // A browser cannot send application/json to another site without a preflight the bot never grants.
        if (CrossSite.NotJson(http.Request) is { } notJson) return Error(415, notJson);
        var (token, malformed) = HttpAuth.Bearer(http.Request);
        if (malformed) return Error(401, "Authorization must be 'Bearer <token>'");
        var max = intakeOptions.Value.MaxBodyBytes * 16; // a group of alerts, not one
        var body = await HttpAuth.ReadCappedAsync(http.Request, max, http.RequestAborted);

        IntakeCaller? caller = null;
        if (body is not null && CheckGrafanaSignature(http.Request, body, options.Value, http.RequestServices.GetRequiredService<TimeProvider>()) is { } signed)
        {
            if (!signed.Ok) return Error(signed.Status, signed.Reason!);
            caller = signed.Caller;
        }
        if (caller is null)
        {
            var auth = gate.Authenticate(remote, token ?? http.Request.Query["token"].FirstOrDefault());
            if (!auth.Ok) return Error(auth.Status, auth.Reason!);
            caller = auth.Caller!;
        }
        if (caller.WithoutToken && CrossSite.ForeignOrigin(http.Request) is { } foreign) return Error(403, foreign);
        if (body is null) return Error(413, $"body over {max} bytes");

        List<Parsed> alerts;
        try
        {
            alerts = Parse(body, options.Value);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            return Error(400, $"not an Alertmanager webhook payload: {e.Message.Split('\n')[0]}");
        }
        foreach (var a in alerts)
        {
            if (IntakeGate.CheckHost(caller, a.Host) is { } notYours) return Error(403, notYours);
            // A level map naming no Larsbot level would fail at the database, look transient, and be retried forever.
            if (AlertIntake.Validate(new AlertInput(a.Host, a.Level, a.Message) { Key = a.Key }, out _, out _, out _) is { } bad)
                return Error(400, bad);
        }

        // The caller's limit, one token per alert in the group (all or none). Over it is 503 with Retry-After, not
        // 429: Alertmanager retries only 5xx, so the group comes again later instead of being dropped for good.
        if (limiter.TryTakeMany(caller.Key, alerts.Count, alerts.Count(a => a.Status != "resolved" && a.Level == "urgent")) is { } over)
        {
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(over.Wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Error(503, $"rate limited: this sender sends too many alerts; retry in {over.Wait.TotalSeconds:0} s");
        }
        // A token limited to some hosts may not name, by fingerprint, open alerts of another host.
        foreach (var a in alerts)
            if (await intake.CheckKeyScopeAsync(caller, a.Key, a.Status == "resolved" ? "resolve" : "send") is { } outOfScope)
                return Error(403, outOfScope.Error!);

        int stored = 0, resolved = 0;
        foreach (var a in alerts)
        {
            // Past the per-host rate limit on purpose (the caller's limit above applies): Alertmanager already groups
            // and re-sends every firing alert of a group each group_interval, so a per-host limit would refuse a big
            // group for ever. Repeats are folded by fingerprint in the engine instead.
            var result = a.Status == "resolved"
                ? await intake.RecordEventAsync("resolve", a.Key, a.Host, null, "alertmanager", http.RequestAborted)
                : await intake.StoreAsync(a.Host, a.Level, a.Message, "alertmanager", http.RequestAborted, a.Key);
            // A retry of the whole group is safe: what was stored already comes back as a repeat or a no-op resolve.
            if (!result.Ok) return Error(result.Transient ? 503 : 400, result.Error!);
            if (a.Status == "resolved") resolved++; else stored++;
        }
        return IntakeJson.Answer(new AlertmanagerAccepted("success", stored, resolved), IntakeJson.Web.AlertmanagerAccepted);
    }

    /// <summary>Grafana may send a signature this old (or this far ahead, for clock skew) and no older.</summary>
    public static readonly TimeSpan GrafanaMaxAge = TimeSpan.FromMinutes(5);

    /// <summary>The timestamp header to set in the contact point's HMAC settings (Grafana's own suggestion).</summary>
    public const string GrafanaTimestampHeader = "X-Grafana-Alerting-Signature-Timestamp";

    /// <summary>
    /// Grafana's HMAC: null when no signature was sent (or no secret is set), so the token rule applies; else allowed
    /// or 401. The signature is hex HMAC-SHA256 of the body, or, when Grafana also sends a timestamp (Unix seconds, in
    /// <see cref="GrafanaTimestampHeader"/>), of <c>timestamp + ":" + body</c>; then a timestamp
    /// more than <see cref="GrafanaMaxAge"/> from now is refused, so a captured request cannot be replayed later.
    /// </summary>
    internal static IntakeAuth? CheckGrafanaSignature(HttpRequest request, byte[] body, AlertmanagerOptions options, TimeProvider time)
    {
        var secret = options.GrafanaSecret;
        if (secret.Length == 0 || !request.Headers.TryGetValue("X-Grafana-Alerting-Signature", out var sig)) return null;
        var signed = body;
        if (request.Headers.TryGetValue(GrafanaTimestampHeader, out var stamp))
        {
            var text = stamp.ToString().Trim();
            if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
                || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
                return IntakeAuth.Deny(401, $"bad {GrafanaTimestampHeader}: Unix seconds expected");
            var age = time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(seconds);
            if (age.Duration() > GrafanaMaxAge)
                return IntakeAuth.Deny(401, $"{GrafanaTimestampHeader} is {(int)age.TotalSeconds} s from now (more than {GrafanaMaxAge.TotalMinutes:0} min): a replayed or delayed request");
            signed = [.. Encoding.UTF8.GetBytes(text + ":"), .. body];
        }
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
        var given = TryHex(sig.ToString());
        return given is not null && CryptographicOperations.FixedTimeEquals(expected, given)
            ? IntakeAuth.Allow(new IntakeCaller("grafana signature", null))
            : IntakeAuth.Deny(401, "bad X-Grafana-Alerting-Signature");
    }

    private static List<Parsed> Parse(byte[] body, AlertmanagerOptions options)
    {
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("body must be a JSON object");
        if (!root.TryGetProperty("alerts", out var list) || list.ValueKind != JsonValueKind.Array) throw new FormatException("'alerts' must be an array");
        var groupLabels = Labels(root, "commonLabels");
        var result = new List<Parsed>();
        foreach (var a in list.EnumerateArray())
        {
            if (a.ValueKind != JsonValueKind.Object) throw new FormatException("each alert must be an object");
            var labels = Labels(a, "labels");
            var annotations = Labels(a, "annotations");
            string? L(string name) => labels.GetValueOrDefault(name) ?? groupLabels.GetValueOrDefault(name);
            var status = Str(a, "status")?.ToLowerInvariant() ?? Str(root, "status")?.ToLowerInvariant() ?? "firing";
            var host = HttpAuth.CleanHost(L("host")) ?? HttpAuth.CleanHost(L("instance")) ?? HttpAuth.CleanHost(L("job")) ?? "alertmanager";
            var level = L("severity") is { } sev && options.SeverityLevels.TryGetValue(sev, out var mapped) ? mapped : options.DefaultLevel;
            var alertname = L("alertname");
            var text = annotations.GetValueOrDefault("summary") ?? annotations.GetValueOrDefault("description") ?? alertname ?? "alert";
            if (alertname is not null && !text.Contains(alertname, StringComparison.Ordinal)) text = $"{alertname}: {text}";
            // Grafana and old senders may leave the fingerprint out: the sorted label set is what Alertmanager hashes.
            var fingerprint = Str(a, "fingerprint") is { Length: > 0 } fp ? fp : Fingerprint(labels);
            result.Add(new Parsed(status, host, level, text, "am:" + fingerprint));
        }
        return result;
    }

    /// <summary>
    /// The fingerprint of an alert sent without one: the first 16 hex digits of SHA-256 over its labels sorted by name
    /// (ordinal), as "name=value" lines. Stored keys are "am:" and this, so it must never change: a resend after an
    /// upgrade would page as new. Written into one buffer: the joined strings it replaced were about 2% of the bot's CPU
    /// samples at c=16 (docs/performance-notes.md, the fifteenth session).
    /// </summary>
    internal static string Fingerprint(Dictionary<string, string> labels)
    {
        var names = new string[labels.Count];
        labels.Keys.CopyTo(names, 0);
        Array.Sort(names, StringComparer.Ordinal);
        var size = 0;
        foreach (var name in names) size += Encoding.UTF8.GetByteCount(name) + Encoding.UTF8.GetByteCount(labels[name]) + 2;
        byte[]? rented = null;
        Span<byte> buffer = size <= 1024 ? stackalloc byte[1024] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(size));
        try
        {
            var n = 0;
            foreach (var name in names)
            {
                if (n > 0) buffer[n++] = (byte)'\n';
                n += Encoding.UTF8.GetBytes(name, buffer[n..]);
                buffer[n++] = (byte)'=';
                n += Encoding.UTF8.GetBytes(labels[name], buffer[n..]);
            }
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..n], hash);
            return Convert.ToHexStringLower(hash[..8]);
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static Dictionary<string, string> Labels(JsonElement e, string name)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.TryGetProperty(name, out var o) && o.ValueKind == JsonValueKind.Object)
            foreach (var p in o.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.String && p.Value.GetString() is { Length: > 0 } v) d[p.Name] = v;
        return d;
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static byte[]? TryHex(string s)
    {
        try
        {
            return Convert.FromHexString(s.Trim());
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static IResult Error(int status, string reason) => IntakeJson.Answer(new IntakeError(reason), IntakeJson.Web.IntakeError, status);
}
