using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Larsbot.Acks;

/// <summary>POST /ack refused: <c>{"error": "..."}</c>.</summary>
internal sealed record AckError(string Error);

/// <summary>POST /ack done: <c>{"acked": true, "person": "robn"}</c>, the roster id credited.</summary>
internal sealed record AckDone(bool Acked, string Person);

/// <summary>
/// POST /ack's answers, serialized without reflection (Native AOT). <see cref="Web"/> has the options ASP.NET's
/// Results.Json used for them before: web defaults (camelCase) and its relaxed escaping, so the bytes on the wire
/// did not change.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AckError))]
[JsonSerializable(typeof(AckDone))]
internal sealed partial class AcksJson : JsonSerializerContext
{
    public static AcksJson Web { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
