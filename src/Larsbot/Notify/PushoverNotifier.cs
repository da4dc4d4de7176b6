using System.Globalization;
using System.Text.Json;

namespace Larsbot.Notify;

/// <summary>
/// Sends a page as a Pushover notification. One attempt per call; the outbox sender retries.
/// Destination is the person's Pushover user key, which is treated as a secret like the app token.
/// </summary>
internal sealed class PushoverNotifier : INotifier, IReceiptCanceller
{
    /// <summary>Pushover's limits; longer fields are refused, so they are cut instead.</summary>
    public const int MaxMessageLength = 1024;
    public const int MaxTitleLength = 250;

    private readonly HttpClient _http;
    private readonly Uri _messagesUri;
    private readonly string _baseUrl;
    private readonly string _appToken;
    private readonly int _priority;
    private readonly TimeSpan _emergencyRetry;
    private readonly TimeSpan _emergencyExpire;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly string? _callbackUrl;
    private readonly string _callbackSecret;

    public PushoverNotifier(HttpClient http, PushoverOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.IsConfigured)
        {
            throw new ArgumentException("Pushover needs AppToken.", nameof(options));
        }

        _http = http;
        _time = timeProvider ?? TimeProvider.System;
        _baseUrl = options.BaseUrl.TrimEnd('/');
        _messagesUri = new Uri($"{_baseUrl}/1/messages.json");
        _appToken = options.AppToken;
        _priority = options.Priority;
        _emergencyRetry = options.EmergencyRetry;
        _emergencyExpire = options.EmergencyExpire;
        _timeout = options.Timeout;
        _callbackUrl = options.CallbackUrl;
        _callbackSecret = options.CallbackSecret;
    }

    public string Channel => "push";

    public async Task<SendResult> SendAsync(PageMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var request = new HttpRequestMessage(HttpMethod.Post, _messagesUri) { Content = new FormUrlEncodedContent(Fields(message)) };

        var attempt = await ProviderHttp.SendAsync(_http, request, _timeout, _time, cancellationToken);
        var result = Classify(attempt);
        return result with { Detail = _callbackSecret.Length > 0
            ? SecretRedactor.Redact(result.Detail, _appToken, message.Destination, _callbackSecret)
            : SecretRedactor.Redact(result.Detail, _appToken, message.Destination) };
    }

    private List<KeyValuePair<string, string>> Fields(PageMessage message)
    {
        var fields = new List<KeyValuePair<string, string>>
        {
            new("token", _appToken),
            new("user", message.Destination),
            new("message", ProviderHttp.Cap(message.Body, MaxMessageLength)),
            new("priority", Priority(message).ToString(CultureInfo.InvariantCulture)),
        };
        if (!string.IsNullOrWhiteSpace(message.Title))
        {
            fields.Add(new("title", ProviderHttp.Cap(message.Title, MaxTitleLength)));
        }
        if (Priority(message) == 2)
        {
            // Emergency priority is refused without them, or with retry under 30 s or expire over 3 hours.
            fields.Add(new("retry", Math.Max(30, (int)_emergencyRetry.TotalSeconds).ToString(CultureInfo.InvariantCulture)));
            fields.Add(new("expire", Math.Min(10800, (int)_emergencyExpire.TotalSeconds).ToString(CultureInfo.InvariantCulture)));
            if (_callbackUrl is not null) fields.Add(new("callback", _callbackUrl));
        }
        return fields;
    }

    private int Priority(PageMessage message) => message.Urgent ? _priority : 0;

    private static SendResult Classify(HttpAttempt attempt)
    {
        if (attempt is HttpAttempt.Failed failed)
        {
            return SendResult.Retry(failed.Reason, mayHaveBeenDelivered: failed.MayHaveBeenDelivered);
        }

        var (status, body, retryAfter) = (HttpAttempt.Answered)attempt;
        var json = ProviderHttp.TryParseObject(body);
        return status switch
        {
            >= 200 and < 300 when json is { } j && IsSuccess(j) => Accepted(status, j),
            // Accepted but unreadable: still Sent, since a retry would page twice.
            >= 200 and < 300 when json is null => SendResult.Sent("unknown", ProviderHttp.Describe(status, "accepted, unreadable answer: " + body)),
            // 429 is the application's monthly quota: nothing was sent.
            429 => SendResult.Retry(ProviderHttp.Describe(status, Errors(json, body)), retryAfter, mayHaveBeenDelivered: false),
            >= 500 => SendResult.Retry(ProviderHttp.Describe(status, Errors(json, body)), retryAfter, mayHaveBeenDelivered: true),
            _ => SendResult.GiveUp(ProviderHttp.Describe(status, Errors(json, body))),
        };
    }

    private static bool IsSuccess(JsonElement json) =>
        json.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt32(out var v) && v == 1;

    private static SendResult Accepted(int status, JsonElement json)
    {
        var request = Text(json, "request") ?? "unknown";
        var receipt = Text(json, "receipt");
        // An emergency page's receipt is its id: the callback and the receipt poll name it.
        return SendResult.Sent(receipt ?? request, ProviderHttp.Describe(status, $"request {request}" + (receipt is null ? "" : $", receipt {receipt}")))
            with { Receipt = receipt };
    }

    /// <summary>POST /1/receipts/{receipt}/cancel.json with the app token: the emergency page stops ringing.</summary>
    public async Task<SendResult> CancelAsync(string receipt, CancellationToken cancellationToken)
    {
        var uri = new Uri($"{_baseUrl}/1/receipts/{Uri.EscapeDataString(receipt)}/cancel.json");
        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new FormUrlEncodedContent([new("token", _appToken)]),
        };
        var attempt = await ProviderHttp.SendAsync(_http, request, _timeout, _time, cancellationToken);
        var result = attempt is HttpAttempt.Answered { Status: 404 } answered
            // An expired or already acknowledged receipt is no longer ringing: nothing left to stop.
            ? SendResult.Sent(receipt, ProviderHttp.Describe(answered.Status, "receipt no longer active"))
            : Classify(attempt);
        return result with { Detail = SecretRedactor.Redact(result.Detail, _appToken) };
    }

    /// <summary>Pushover's error body is {"user":"invalid","errors":["..."],"status":0,"request":"..."}.</summary>
    private static string Errors(JsonElement? json, string body)
    {
        if (json is { } j && j.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
        {
            var list = errors.EnumerateArray().Select(e => e.ToString()).ToList();
            var request = Text(j, "request");
            return string.Join("; ", list) + (request is null ? "" : $" (request {request})");
        }
        return body;
    }

    private static string? Text(JsonElement json, string name) =>
        json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
