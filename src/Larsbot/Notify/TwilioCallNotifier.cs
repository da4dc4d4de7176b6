using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Larsbot.Notify;

/// <summary>
/// Rings a phone through Twilio's Calls API with inline TwiML that reads the page twice. One attempt per call; the
/// outbox sender retries. Like SMS, Twilio has no idempotency key: a retry after a timeout or 5xx may ring twice.
/// </summary>
internal sealed class TwilioCallNotifier : INotifier
{
    /// <summary>At most this many characters of the page are read out (a call is not the place for a log file).</summary>
    public const int MaxSpokenLength = 1000;

    /// <summary>Twilio refuses inline TwiML over 4000 characters: the whole document stays within it, after escaping.</summary>
    public const int MaxTwimlLength = 4000;

    private readonly HttpClient _http;
    private readonly Uri _callsUri;
    private readonly string _from;
    private readonly string? _statusCallback;
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
        _statusCallback = string.IsNullOrWhiteSpace(options.StatusCallbackUrl) ? null : options.StatusCallbackUrl;
        _timeout = options.Timeout;
        _callsUri = new Uri($"{options.BaseUrl.TrimEnd('/')}/2010-04-01/Accounts/{Uri.EscapeDataString(options.AccountSid)}/Calls.json");
        var userPass = $"{options.AccountSid}:{options.AuthToken}";
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(userPass));
        _authorization = new AuthenticationHeaderValue("Basic", basic);
        _redactor = new SecretRedactor([userPass, basic, options.AuthToken]);
    }

    public string Channel => "call";

    private const string Head = "<Response><Say>";
    private const string Middle = "</Say><Pause length=\"1\"/><Say>";
    private const string Tail = "</Say><Say>Say lars ack in the channel to stop the pages.</Say></Response>";

    /// <summary>
    /// What the callee hears: the title and the page, twice, so a half-awake person catches it. Whatever the alert
    /// says, the result is well-formed XML within <see cref="MaxTwimlLength"/>: characters XML cannot hold (control
    /// characters, lone surrogates, U+FFFE/U+FFFF) are dropped, line breaks and tabs read as spaces, the five markup
    /// characters are escaped, and the text is cut (with "…") so that both readings fit after escaping.
    /// </summary>
    private List<KeyValuePair<string, string>> Fields(PageMessage message)
    {
        List<KeyValuePair<string, string>> fields = [new("To", message.Destination), new("From", _from), new("Twiml", Twiml(message))];
        // Twilio posts the call's outcome (completed, busy, no-answer, failed) to us when it ends.
        if (_statusCallback is not null) fields.Add(new("StatusCallback", _statusCallback));
        return fields;
    }

    public static string Twiml(PageMessage message)
    {
        var room = (MaxTwimlLength - Head.Length - Middle.Length - Tail.Length) / 2;
        var text = SpeakableXml($"{message.Title}. {message.Body}", room, MaxSpokenLength);
        return Head + text + Middle + text + Tail;
    }

    /// <summary>
    /// <paramref name="text"/> as XML character data of at most <paramref name="maxEscaped"/> characters (counted after
    /// escaping, "…" included) and <paramref name="maxChars"/> characters of the original; a surrogate pair is never split.
    /// </summary>
    internal static string SpeakableXml(string text, int maxEscaped, int maxChars)
    {
        var sb = new StringBuilder(Math.Min(text.Length, maxEscaped));
        var kept = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            string piece;
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1])) continue; // lone: not a character at all
                piece = text.Substring(i++, 2);
            }
            else if (char.IsLowSurrogate(c) || c is '\uFFFE' or '\uFFFF') continue;
            else if (c is '\t' or '\n' or '\r') piece = " ";
            else if (char.IsControl(c)) continue; // C0 (illegal in XML 1.0), DEL and C1 (legal, but nothing to say)
            else piece = c switch { '&' => "&amp;", '<' => "&lt;", '>' => "&gt;", '"' => "&quot;", '\'' => "&apos;", _ => c.ToString() };

            // Room is kept for the "…" that says it was cut.
            if (kept >= maxChars || sb.Length + piece.Length > maxEscaped - 1)
            {
                sb.Append('…');
                break;
            }
            sb.Append(piece);
            kept++;
        }
        return sb.ToString();
    }

    public async Task<SendResult> SendAsync(PageMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var request = new HttpRequestMessage(HttpMethod.Post, _callsUri)
        {
            Content = new FormUrlEncodedContent(Fields(message)),
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
