using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Larsbot.Intake;

/// <summary>POST /alerts: form fields (plain curl) or a JSON object, {host, level, message, key?, action?}.</summary>
public static class HttpIntake
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    public static IEndpointRouteBuilder MapIntake(this IEndpointRouteBuilder app)
    {
        app.MapPost("/alerts", HandleAsync);
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext http, AlertIntake intake, IntakeGate gate, IOptions<IntakeOptions> options)
    {
        var remote = http.Connection.RemoteIpAddress;
        if (gate.CheckNetwork(remote) is { } denied) return Error(403, denied);
        string? headerToken = null;
        if (http.Request.Headers.Authorization is { Count: > 0 } authz)
        {
            var value = authz.ToString();
            if (!value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                return Error(401, "Authorization must be 'Bearer <token>'");
            headerToken = value["Bearer ".Length..].Trim();
        }

        var max = options.Value.MaxBodyBytes;
        var body = await HttpAuth.ReadCappedAsync(http.Request, max, http.RequestAborted);

        AlertInput? input = null;
        string? fieldToken = null, problem = null;
        var status = 400;
        var type = http.Request.ContentType ?? "";
        if (body is null)
            problem = $"body over {max} bytes ({max / 1024} KiB)";
        else if (type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            (input, fieldToken, problem) = ParseJson(body);
        else if (type.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) || type.Length == 0)
            (input, fieldToken, problem) = ParseForm(body);
        else
            (problem, status) = ($"unsupported content type '{Shorten(type)}': send form fields or application/json", 415);

        // Authenticate before saying anything about the body: a stranger learns only that a token is needed.
        var auth = gate.Authenticate(remote, headerToken ?? fieldToken);
        if (!auth.Ok) return Error(auth.Status, auth.Reason!);
        var caller = auth.Caller!;
        // Accepted without a token: a web page elsewhere must not be able to post this form from someone's browser.
        if (caller.WithoutToken && CrossSite.ForeignOrigin(http.Request) is { } foreign) return Error(403, foreign);
        if (problem is not null) return Error(status, problem);
        if (IntakeGate.CheckHost(caller, input!.Host) is { } notYours) return Error(403, notYours);

        IntakeResult result;
        switch (input.Action?.Trim().ToLowerInvariant())
        {
            case null or "" or "trigger":
                result = await intake.AcceptAsync(input, "http", http.RequestAborted, caller);
                break;
            case "resolve":
                // A token limited to some hosts must say which host it resolves (checked above), so it cannot end others' alerts.
                if (caller.Hosts is not null && string.IsNullOrWhiteSpace(input.Host))
                    return Error(403, "this token may resolve only with a host");
                result = await intake.RecordEventAsync("resolve", input.Key, input.Host, input.Message, "http", http.RequestAborted, caller);
                break;
            default:
                return Error(400, $"unknown action '{Shorten(input.Action!)}' (use trigger or resolve)");
        }
        if (result.Ok) return IntakeJson.Answer(new AlertAccepted(result.Id), IntakeJson.Web.AlertAccepted, 202);
        if (result.RateLimited)
        {
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(result.RetryAfter!.Value.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Error(429, result.Error!);
        }
        return Error(result.Status, result.Error!);
    }

    private static (AlertInput? Input, string? Token, string? Error) ParseForm(byte[] body)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(body);
        }
        catch (DecoderFallbackException)
        {
            return (null, null, "body is not valid UTF-8");
        }
        var form = QueryHelpers.ParseQuery(text);
        return (new AlertInput(First(form, "host"), First(form, "level"), First(form, "message")) { Key = First(form, "key"), Action = First(form, "action") },
            First(form, "token"), null);
    }

    private static (AlertInput? Input, string? Token, string? Error) ParseJson(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return (null, null, "JSON body must be an object {host, level, message}");
            string? Str(string name) =>
                doc.RootElement.TryGetProperty(name, out var v) ? v.ValueKind switch
                {
                    JsonValueKind.String => v.GetString(),
                    JsonValueKind.Null => null,
                    _ => throw new FormatException($"'{name}' must be a string"),
                } : null;
            return (new AlertInput(Str("host"), Str("level"), Str("message")) { Key = Str("key"), Action = Str("action") }, Str("token"), null);
        }
        catch (JsonException e)
        {
            return (null, null, $"body is not valid JSON: {e.Message.Split('\n')[0]}");
        }
        catch (FormatException e)
        {
            return (null, null, e.Message);
        }
        catch (InvalidOperationException e)
        {
            // GetString on a string holding an invalid surrogate escape ("\ud800") throws this.
            return (null, null, $"body is not valid JSON: {e.Message.Split('\n')[0]}");
        }
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";

    private static string? First(Dictionary<string, Microsoft.Extensions.Primitives.StringValues> form, string key) =>
        form.TryGetValue(key, out var v) && v.Count > 0 ? v[0] : null;

    /// <summary>One line, plain text and JSON alike: curl users read the reason straight off the terminal.</summary>
    private static IResult Error(int status, string reason) => IntakeJson.Answer(new IntakeError(reason), IntakeJson.Web.IntakeError, status);
}
