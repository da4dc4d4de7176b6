using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Larsbot.Intake;

/// <summary>POST /alerts: form fields (plain curl) or a JSON object, {host, level, message}.</summary>
public static class HttpIntake
{
    public static IEndpointRouteBuilder MapIntake(this IEndpointRouteBuilder app)
    {
        app.MapPost("/alerts", HandleAsync);
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext http, AlertIntake intake, IOptions<IntakeOptions> options)
    {
        var max = options.Value.MaxBodyBytes;
        var body = await ReadCappedAsync(http.Request.Body, max, http.RequestAborted);
        if (body is null) return Error(400, $"body over {max} bytes ({max / 1024} KiB)");

        AlertInput input;
        var type = http.Request.ContentType ?? "";
        if (type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            var parsed = ParseJson(body);
            if (parsed.Error is not null) return Error(400, parsed.Error);
            input = parsed.Input!;
        }
        else if (type.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) || type.Length == 0)
        {
            string text;
            try
            {
                text = new UTF8Encoding(false, true).GetString(body);
            }
            catch (DecoderFallbackException)
            {
                return Error(400, "body is not valid UTF-8");
            }
            var form = QueryHelpers.ParseQuery(text);
            input = new AlertInput(First(form, "host"), First(form, "level"), First(form, "message"));
        }
        else
        {
            return Error(415, $"unsupported content type '{type}': send form fields or application/json");
        }

        var result = await intake.AcceptAsync(input, "http", http.RequestAborted);
        if (result.Ok) return Results.Json(new { id = result.Id }, statusCode: 202);
        return Error(result.Transient ? 503 : 400, result.Error!);
    }

    private static (AlertInput? Input, string? Error) ParseJson(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return (null, "JSON body must be an object {host, level, message}");
            string? Str(string name) =>
                doc.RootElement.TryGetProperty(name, out var v) ? v.ValueKind switch
                {
                    JsonValueKind.String => v.GetString(),
                    JsonValueKind.Null => null,
                    _ => throw new FormatException($"'{name}' must be a string"),
                } : null;
            return (new AlertInput(Str("host"), Str("level"), Str("message")), null);
        }
        catch (JsonException e)
        {
            return (null, $"body is not valid JSON: {e.Message.Split('\n')[0]}");
        }
        catch (FormatException e)
        {
            return (null, e.Message);
        }
    }

    private static string? First(Dictionary<string, Microsoft.Extensions.Primitives.StringValues> form, string key) =>
        form.TryGetValue(key, out var v) && v.Count > 0 ? v[0] : null;

    /// <summary>Reads at most <paramref name="max"/> bytes; null when the body is longer (never buffers more than max+1).</summary>
    private static async Task<byte[]?> ReadCappedAsync(Stream body, int max, CancellationToken ct)
    {
        var buffer = new byte[Math.Min(max + 1, 16 * 1024)];
        using var ms = new MemoryStream();
        int n;
        while ((n = await body.ReadAsync(buffer, ct)) > 0)
        {
            ms.Write(buffer, 0, n);
            if (ms.Length > max) return null;
        }
        return ms.ToArray();
    }

    /// <summary>One line, plain text and JSON alike: curl users read the reason straight off the terminal.</summary>
    private static IResult Error(int status, string reason) => Results.Json(new { error = reason }, statusCode: status);
}
