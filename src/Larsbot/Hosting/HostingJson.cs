using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Larsbot.Hosting;

/// <summary>
/// GET /health's body. The arbiter and monitoring read it: <c>status</c> ("ok" or "unhealthy"), <c>problems</c>, and
/// one object per part. Counts and ages are null when they could not be read. <c>role</c> is "leader" or "standby"
/// (several instances on one PostgreSQL database); <c>leader</c> says which instance leads, as this one sees it.
/// </summary>
internal sealed record HealthBody(string Status, List<string> Problems, HealthIrc Irc, HealthDatabase Database, HealthEngine Engine,
    HealthSender Sender, HealthPages Pages, string Role, HealthLeader Leader);

/// <summary>Name: the leading instance (null: none seen yet); SeenAgoSeconds: since its last renewal, on the database's clock.</summary>
internal sealed record HealthLeader(string? Name, double? SeenAgoSeconds, bool Shared);

internal sealed record HealthIrc(bool Connected, string Nick);

internal sealed record HealthDatabase(bool Ok, bool Writable);

internal sealed record HealthEngine(bool Ok, double? LastLoopAgeSeconds);

internal sealed record HealthSender(bool Ok, double? LastPassAgeSeconds);

/// <summary>DuplicateRisk: sends that may have reached the provider before a retry (crash mid-send, timeout, 5xx).</summary>
internal sealed record HealthPages(long? Retrying, long? FailingLong, long? GaveUpLastHour, long? DuplicateRisk);

/// <summary>
/// /health's body, serialized without reflection (Native AOT). <see cref="Web"/> has the options ASP.NET's
/// Results.Json used for it before: web defaults (camelCase) and its relaxed escaping, so the bytes on the wire did
/// not change.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(HealthBody))]
internal sealed partial class HostingJson : JsonSerializerContext
{
    public static HostingJson Web { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
