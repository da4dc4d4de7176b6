using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Larsbot.Notify;

/// <summary>
/// Sends a page as an SMS through Twilio's Messages API. One attempt per call; the outbox sender retries.
/// Twilio has no idempotency key, so a retry after a timeout or a 5xx may send twice (MayHaveBeenDelivered).
/// </summary>
internal sealed class TwilioSmsNotifier : INotifier
{
    /// <summary>Twilio refuses longer bodies (error 21617).</summary>
    public const int MaxBodyLength = 1600;

    private readonly HttpClient _http;
    private readonly Uri _messagesUri;
    private readonly string _from;
    private readonly TimeSpan _timeout;
    private readonly AuthenticationHeaderValue _authorization;
    private readonly SecretRedactor _redactor;
    private readonly TimeProvider _time;
    private readonly string? _statusCallback;

    public TwilioSmsNotifier(HttpClient http, TwilioOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.IsConfigured)
        {
            throw new ArgumentException("Twilio needs AccountSid, AuthToken and From.", nameof(options));
        }

        _http = http;
        _time = timeProvider ?? TimeProvider.System;
        _from = options.From;
        _statusCallback = string.IsNullOrWhiteSpace(options.StatusCallbackUrl) ? null : options.StatusCallbackUrl;
        _timeout = options.Timeout;
        _messagesUri = new Uri(
            $"{options.BaseUrl.TrimEnd('/')}/2010-04-01/Accounts/{Uri.EscapeDataString(options.AccountSid)}/Messages.json");
        var userPass = $"{options.AccountSid}:{options.AuthToken}";
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(userPass));
        _authorization = new AuthenticationHeaderValue("Basic", basic);
        _redactor = new SecretRedactor([userPass, basic, options.AuthToken]);
    }

    public string Channel => "sms";

    public async Task<SendResult> SendAsync(PageMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var request = new HttpRequestMessage(HttpMethod.Post, _messagesUri)
        {
            Content = new FormUrlEncodedContent(Fields(message)),
        };
        request.Headers.Authorization = _authorization;

        var attempt = await ProviderHttp.SendAsync(_http, request, _timeout, _time, cancellationToken);
        var result = Classify(attempt);
        return result with { Detail = _redactor.Redact(result.Detail) };
    }

    private List<KeyValuePair<string, string>> Fields(PageMessage message)
    {
        List<KeyValuePair<string, string>> fields =
        [
            new("To", message.Destination),
            new("From", _from),
            new("Body", ProviderHttp.Cap(message.Body, MaxBodyLength)),
        ];
        // Twilio then posts each change of the message's status (sent, delivered, undelivered, failed) to us.
        if (_statusCallback is not null) fields.Add(new("StatusCallback", _statusCallback));
        return fields;
    }

    private static SendResult Classify(HttpAttempt attempt)
    {
        if (attempt is HttpAttempt.Failed failed)
        {
            return SendResult.Retry(failed.Reason, mayHaveBeenDelivered: failed.MayHaveBeenDelivered);
        }

        var (status, body, retryAfter) = (HttpAttempt.Answered)attempt;
        return status switch
        {
            >= 200 and < 300 => Accepted(status, body),
            // Twilio: a 429 (20429) was never processed, so retrying cannot duplicate.
            429 => SendResult.Retry(ProviderHttp.Describe(status, Error(body)), retryAfter, mayHaveBeenDelivered: false),
            >= 500 => SendResult.Retry(ProviderHttp.Describe(status, Error(body)), retryAfter, mayHaveBeenDelivered: true),
            _ => SendResult.GiveUp(ProviderHttp.Describe(status, Error(body))),
        };
    }

    private static SendResult Accepted(int status, string body)
    {
        var json = ProviderHttp.TryParseObject(body);
        var sid = json is { } j && j.TryGetProperty("sid", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        var state = json is { } k && k.TryGetProperty("status", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        return string.IsNullOrEmpty(sid)
            // Accepted but unreadable: still Sent, since a retry would page twice.
            ? SendResult.Sent("unknown", ProviderHttp.Describe(status, "accepted without a sid: " + body))
            : SendResult.Sent(sid, ProviderHttp.Describe(status, $"sid {sid}" + (state is null ? "" : $", {state}")));
    }

    /// <summary>Twilio's error body is {"code":21211,"message":"...","more_info":"...","status":400}.</summary>
    private static string Error(string body)
    {
        if (ProviderHttp.TryParseObject(body) is { } json && json.TryGetProperty("message", out var message))
        {
            var code = json.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number ? $"Twilio {c.GetRawText()}: " : "";
            return code + message.ToString();
        }
        return body;
    }
}
