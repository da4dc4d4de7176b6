using System.Text.Json;
using System.Text.RegularExpressions;
using Larsbot.Acks;
using Microsoft.AspNetCore.Http;

namespace Larsbot.Tests.Notify;

/// <summary>
/// Twilio's delivery reports: a message or call remembers the StatusCallback it was created with; the test moves it
/// on (<see cref="ReportAsync"/>), and the stand-in posts the callback the way Twilio does (form fields, signed with
/// X-Twilio-Signature over the callback URL) and answers GET .../Messages/{sid}.json with the new status.
/// </summary>
public sealed partial class FakeProviders
{
    private readonly Dictionary<string, (string? Callback, string Status, string? ErrorCode, IReadOnlyDictionary<string, string> Form)> _resources = [];
    private static readonly HttpClient CallbackClient = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Sids of the messages and calls accepted, in order.</summary>
    public IReadOnlyList<string> Sids { get { lock (_gate) return [.. _resources.Keys]; } }

    /// <summary>The StatusCallback a message or call was created with (null: none).</summary>
    public string? StatusCallbackOf(string sid) { lock (_gate) return _resources[sid].Callback; }

    private void Remember(string sid, Dictionary<string, string> form)
    {
        lock (_gate) _resources[sid] = (form.GetValueOrDefault("StatusCallback"), "queued", null, form);
    }

    /// <summary>
    /// The message or call reaches <paramref name="status"/>: GET on it says so from now on, and with
    /// <paramref name="callBack"/> the callback is posted (signed as Twilio signs it). Returns the callback's HTTP status.
    /// </summary>
    public async Task<int?> ReportAsync(string sid, string status, string? errorCode = null, bool callBack = true)
    {
        (string? Callback, string Status, string? ErrorCode, IReadOnlyDictionary<string, string> Form) r;
        lock (_gate)
        {
            r = _resources[sid];
            _resources[sid] = r with { Status = status, ErrorCode = errorCode };
        }
        if (!callBack || r.Callback is null) return null;
        var call = sid.StartsWith("CA", StringComparison.Ordinal);
        var form = new List<KeyValuePair<string, string>>
        {
            new("AccountSid", AccountSid), new(call ? "CallSid" : "MessageSid", sid), new(call ? "CallStatus" : "MessageStatus", status),
            new("From", r.Form.GetValueOrDefault("From") ?? ""), new("To", r.Form.GetValueOrDefault("To") ?? ""), new("ApiVersion", "2010-04-01"),
        };
        if (!call) form.Add(new("SmsSid", sid));
        if (errorCode is not null) form.Add(new("ErrorCode", errorCode));
        using var request = new HttpRequestMessage(HttpMethod.Post, r.Callback) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("X-Twilio-Signature", PhoneAcks.TwilioSignature(AuthToken, r.Callback, form));
        using var response = await CallbackClient.SendAsync(request);
        return (int)response.StatusCode;
    }

    /// <summary>GET /2010-04-01/Accounts/{sid}/Messages/{sid}.json (or Calls): the resource with its current status.</summary>
    private async Task HandleTwilioResourceAsync(HttpContext context, string kind, string sid)
    {
        var (user, password) = BasicCredentials(context.Request);
        if (!HttpMethods.IsGet(context.Request.Method) || user != AccountSid || password != AuthToken)
        {
            Reject(context, $"Twilio {kind} fetch: method or authentication");
            await Json(context, 401, TwilioErrorBody(20003, "Authenticate", 401));
            return;
        }
        bool known;
        (string? Callback, string Status, string? ErrorCode, IReadOnlyDictionary<string, string> Form) r;
        lock (_gate) known = _resources.TryGetValue(sid, out r);
        if (!known)
        {
            await Json(context, 404, TwilioErrorBody(20404, $"The requested resource /2010-04-01/Accounts/{AccountSid}/{kind}/{sid}.json was not found", 404));
            return;
        }
        await Json(context, 200, new Dictionary<string, object?>
        {
            ["sid"] = sid, ["account_sid"] = AccountSid, ["status"] = r.Status,
            ["error_code"] = r.ErrorCode is null ? null : int.Parse(r.ErrorCode), ["to"] = r.Form.GetValueOrDefault("To"),
        });
    }

    [GeneratedRegex(@"^/2010-04-01/Accounts/[^/]+/(?<kind>Messages|Calls)/(?<sid>[A-Za-z0-9]+)\.json$")]
    private static partial Regex TwilioResourcePath();
}
