using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Larsbot.Storage;

namespace Larsbot.StatusPage;

/// <summary>GET /status.json: the snapshot as plain JSON for scripts and tests; times as Unix ms like the database.</summary>
internal sealed record StatusDocument(long Now, StatusMode Mode, StatusDuty? Duty, IEnumerable<StatusOpen> Open, IEnumerable<StatusRecent> Recent,
    IEnumerable<Dictionary<string, string>>? Silences);

/// <summary>Ack mode: name "acked" (with who, and until when) or "normal" (the rest null).</summary>
internal sealed record StatusMode(string Name, string? AckedBy, string? Person, long? Until);

/// <summary>Who holds duty; contacts as the page shows them (masked when Irc:ShowContacts=false).</summary>
internal sealed record StatusDuty(string Id, string Name, string TimeZone, string LocalTime, long Since, string? Email, string? Phone, bool Pushover);

/// <summary>An open escalation; Deadline and SecondsLeft are null when it has none.</summary>
internal sealed record StatusOpen(long Id, string State, long? Deadline, double? SecondsLeft, IEnumerable<StatusOpenAlert> Alerts,
    IEnumerable<StatusPageFate> Pages);

internal sealed record StatusOpenAlert(long Id, string Host, string Message);

internal sealed record StatusPageFate(string Channel, string Person, string State, long At);

internal sealed record StatusRecent(long Id, long ReceivedAt, string Host, string Level, string Message, string State, string? AckedBy);

/// <summary>A <see cref="StatusSnapshot"/> as /status.json shows it.</summary>
internal static class StatusJson
{
    public static StatusDocument From(StatusSnapshot s) => new(
        UnixMs.From(s.Now),
        s.AckMode is { } m
            ? new StatusMode("acked", m.Nick, m.PersonId, UnixMs.From(m.EndsAt))
            : new StatusMode("normal", null, null, null),
        s.Duty is { } d
            ? new StatusDuty(d.Person.Id, d.Person.Name, d.Person.TimeZoneId,
                d.LocalNow.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture),
                UnixMs.From(d.Since), d.Person.ShownEmail, d.Person.ShownPhone, d.Person.HasPushover)
            : null,
        s.Open.Select(o => new StatusOpen(
            o.CountdownId,
            o.State,
            o.Deadline is { } t ? UnixMs.From(t) : null,
            o.Deadline is { } u ? Math.Max(0, (u - s.Now).TotalSeconds) : null,
            o.Alerts.Select(a => new StatusOpenAlert(a.Id, a.Host, a.Message)),
            o.Pages.Select(p => new StatusPageFate(p.Channel, p.PersonId, p.State, UnixMs.From(p.At))))),
        s.Recent.Select(a => new StatusRecent(a.Id, UnixMs.From(a.ReceivedAt), a.Host, a.Level, a.Message, a.State, a.AckedBy)),
        s.Silences?.Select(v => v.Fields.ToDictionary(f => f.Key, f => f.Value)));
}

/// <summary>
/// /status.json, serialized without reflection (Native AOT). <see cref="Web"/> has the options ASP.NET's
/// Results.Json used for it before: web defaults (camelCase, dictionary keys as they are) and its relaxed escaping,
/// so the bytes on the wire did not change.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StatusDocument))]
internal sealed partial class StatusPageJson : JsonSerializerContext
{
    public static StatusPageJson Web { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
