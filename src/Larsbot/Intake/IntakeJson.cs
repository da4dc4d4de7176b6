using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

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
}
