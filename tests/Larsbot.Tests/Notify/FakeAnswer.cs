using System.Text.Json;

namespace Larsbot.Tests.Notify;

/// <summary>One request the stand-in accepted (it passed the checks the real API makes).</summary>
public sealed record RecordedRequest(string Method, string Path, string? ContentType, string? BasicUser, IReadOnlyDictionary<string, string> Form)
{
    public string this[string field] => Form[field];

    /// <summary>When the request reached the stand-in (before any <see cref="FakeProviders.ResponseDelay"/>).</summary>
    public DateTimeOffset At { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>A scripted answer for the next accepted request. Unscripted requests get the provider's success answer.</summary>
public sealed record FakeAnswer(int Status, string? Body = null, string? RetryAfter = null, bool Hang = false)
{
    public static FakeAnswer WithStatus(int status, string? body = null) => new(status, body);

    /// <param name="retryAfter">The header's raw value: seconds ("7") or an HTTP date.</param>
    public static FakeAnswer TooManyRequests(string? retryAfter = "7", string? body = null) => new(429, body, retryAfter);

    /// <summary>Never answers (until the client gives up or the stand-in stops): a provider past the timeout.</summary>
    public static FakeAnswer Hanging() => new(0, Hang: true);

    public static FakeAnswer TwilioError(int status, int code, string message) =>
        new(status, JsonSerializer.Serialize(new { code, message, more_info = $"https://www.twilio.com/docs/errors/{code}", status }));

    public static FakeAnswer TwilioCreated(string sid) => new(201, JsonSerializer.Serialize(new { sid, status = "queued" }));

    public static FakeAnswer PushoverError(int status, params string[] errors) =>
        new(status, JsonSerializer.Serialize(new { errors, status = 0, request = Guid.NewGuid().ToString() }));

    public static FakeAnswer PushoverAccepted(string request) => new(200, JsonSerializer.Serialize(new { status = 1, request }));
}
