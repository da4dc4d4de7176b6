using System.Net.Http.Headers;
using System.Security;
using System.Text;
using System.Text.Json;

namespace Larsbot.Notify;

/// <summary>
/// Rings a phone through Twilio's Calls API with inline TwiML that reads the page twice. One attempt per call; the
/// outbox sender retries. Like SMS, Twilio has no idempotency key: a retry after a timeout or 5xx may ring twice.
/// </summary>
internal sealed class TwilioCallNotifier : INotifier
{
    /// <summary>Twilio refuses inline TwiML over 4000 characters; the spoken text is cut well inside that.</summary>
    public const int MaxSpokenLength = 1000;

    private readonly HttpClient _http;
    private readonly Uri _callsUri;
    private readonly string _from;
    private readonly TimeSpan _timeout;
    private readonly AuthenticationHeaderValue _authorization;
    private readonly SecretRedactor _redactor;
    private readonly TimeProvider _time;

    public TwilioCallNotifier(HttpClient http, TwilioOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.IsConfigured) throw new ArgumentException("Twilio needs AccountSid, AuthToken and From.", nameof(options));
        _http = http;
        _time = timeProvider ?? TimeProvider.System;
        _from = options.From;
        _timeout = options.Timeout;
        _callsUri = new Uri($"{options.BaseUrl.TrimEnd('/')}/2010-04-01/Accounts/{Uri.EscapeDataString(options.AccountSid)}/Calls.json");
        var userPass = $"{options.AccountSid}:{options.AuthToken}";
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(userPass));
        _authorization = new AuthenticationHeaderValue("Basic", basic);
        _redactor = new SecretRedactor([userPass, basic, options.AuthToken]);
    }

    public string Channel => "call";

    /// <summary>What the callee hears: the title and the page, twice, so a half-awake person catches it.</summary>
    public static string Twiml(PageMessage message)
    {
        var text = SecurityElement.Escape(ProviderHttp.Cap($"{message.Title}. {message.Body}", MaxSpokenLength));
        return $"<Response><Say>{text}</Say><Pause length=\"1\"/><Say>{text}</Say><Say>Say lars ack in the channel to stop the pages.</Say></Response>";
    }

    public async Task<SendResult> SendAsync(PageMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var request = new HttpRequestMessage(HttpMethod.Post, _callsUri)
        {
            Content = new FormUrlEncodedContent([new("To", message.Destination), new("From", _from), new("Twiml", Twiml(message))]),
        };
        request.Headers.Authorization = _authorization;
        var attempt = await ProviderHttp.SendAsync(_http, request, _timeout, _time, cancellationToken);
        var result = Classify(attempt);
        return result with { Detail = _redactor.Redact(result.Detail) };
    }

    private static SendResult Classify(HttpAttempt attempt)
    {
        if (attempt is HttpAttempt.Failed failed) return SendResult.Retry(failed.Reason, mayHaveBeenDelivered: failed.MayHaveBeenDelivered);
        var (status, body, retryAfter) = (HttpAttempt.Answered)attempt;
        return status switch
        {
            >= 200 and < 300 => Accepted(status, body),
            429 => SendResult.Retry(ProviderHttp.Describe(status, Error(body)), retryAfter, mayHaveBeenDelivered: false),
            >= 500 => SendResult.Retry(ProviderHttp.Describe(status, Error(body)), retryAfter, mayHaveBeenDelivered: true),
            _ => SendResult.GiveUp(ProviderHttp.Describe(status, Error(body))),
        };
    }

    private static SendResult Accepted(int status, string body)
    {
        var json = ProviderHttp.TryParseObject(body);
        var sid = json is { } j && j.TryGetProperty("sid", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        return string.IsNullOrEmpty(sid)
            ? SendResult.Sent("unknown", ProviderHttp.Describe(status, "accepted without a sid: " + body))
            : SendResult.Sent(sid, ProviderHttp.Describe(status, $"call sid {sid}"));
    }

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
