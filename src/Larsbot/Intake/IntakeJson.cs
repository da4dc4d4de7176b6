using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Larsbot.Intake;

/// <summary>Every refusal from POST /alerts, /api/alertmanager and the Host check: <c>{"error": "..."}</c>.</summary>
internal sealed record IntakeError(string Error);

/// <summary>POST /alerts accepted: <c>{"id": 42}</c>, the stored alert's id.</summary>
internal sealed record AlertAccepted(long? Id);

/// <summary>POST /api/alertmanager stored the group: <c>{"status": "success", "firing": 2, "resolved": 1}</c>.</summary>
internal sealed record AlertmanagerAccepted(string Status, int Firing, int Resolved);

/// <summary>POST /v2/enqueue accepted, worded as PagerDuty words it (<c>dedup_key</c> in snake case, as PagerDuty's).</summary>
internal sealed record PagerDutyAccepted(string Status, string Message, [property: JsonPropertyName("dedup_key")] string DedupKey);

/// <summary>POST /v2/enqueue refused, worded as PagerDuty words it: a short status, a message, and the reasons.</summary>
internal sealed record PagerDutyRefused(string Status, string Message, string[] Errors);

/// <summary>
/// The intake's answers, serialized without reflection (Native AOT). <see cref="Web"/> has the options ASP.NET's
/// Results.Json used for them before: web defaults (camelCase) and its relaxed escaping, so ' &lt; &gt; &amp; and
/// non-ASCII letters are written as they are and the bytes on the wire did not change.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(IntakeError))]
[JsonSerializable(typeof(AlertAccepted))]
[JsonSerializable(typeof(AlertmanagerAccepted))]
[JsonSerializable(typeof(PagerDutyAccepted))]
[JsonSerializable(typeof(PagerDutyRefused))]
internal sealed partial class IntakeJson : JsonSerializerContext
{
    public static IntakeJson Web { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    /// <summary>
    /// An answer of the intake doors: the same bytes and Content-Type as Results.Json, serialized in one go and sent
    /// with its Content-Length (ASP.NET's own UTF-8 result). Results.Json streamed a 45-byte answer through the
    /// asynchronous serializer, chunked: about 1% of the bot's CPU samples at c=16 (docs/performance-notes.md, the
    /// fifteenth session).
    /// </summary>
    public static IResult Answer<T>(T value, JsonTypeInfo<T> info, int status = StatusCodes.Status200OK) =>
        Results.Text(JsonSerializer.SerializeToUtf8Bytes(value, info), "application/json; charset=utf-8", status);
}
