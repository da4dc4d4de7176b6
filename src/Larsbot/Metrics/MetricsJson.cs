using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Larsbot.Metrics;

/// <summary>GET /metrics refused: <c>{"error": "..."}</c>.</summary>
internal sealed record MetricsError(string? Error);

/// <summary>
/// /metrics' refusals, serialized without reflection (Native AOT). <see cref="Web"/> has the options ASP.NET's
/// Results.Json used for them before: web defaults (camelCase) and its relaxed escaping, so the bytes on the wire
/// did not change.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(MetricsError))]
internal sealed partial class MetricsJson : JsonSerializerContext
{
    public static MetricsJson Web { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
