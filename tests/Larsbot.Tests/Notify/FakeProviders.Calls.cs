using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Larsbot.Tests.Notify;

/// <summary>The stand-in's Twilio Calls API and Pushover's receipts API.</summary>
public sealed partial class FakeProviders
{
    private readonly Dictionary<string, string?> _receipts = [];
    private readonly List<RecordedRequest> _calls = [];

    /// <summary>Calls API requests accepted so far (To, From, Twiml).</summary>
    public IReadOnlyList<RecordedRequest> CallRequests { get { lock (_gate) return [.. _calls]; } }

    /// <summary>POST /2010-04-01/Accounts/{sid}/Calls.json: Basic auth, form body, To and From, one of Url/Twiml/ApplicationSid.</summary>
    private async Task HandleTwilioCallAsync(HttpContext context, string pathSid)
    {
        var (user, password) = BasicCredentials(context.Request);
        if (!HttpMethods.IsPost(context.Request.Method) || user != AccountSid || password != AuthToken || pathSid != AccountSid)
        {
            Reject(context, "Twilio Calls: method or authentication");
            await Json(context, 401, TwilioErrorBody(20003, "Authenticate", 401));
            return;
        }
        if (!IsForm(context.Request))
        {
            Reject(context, $"Twilio Calls: content type {context.Request.ContentType}");
            await Json(context, 415, TwilioErrorBody(20415, "Unsupported Media Type", 415));
            return;
        }
        var form = await ReadFormAsync(context);
        string? problem =
            !form.TryGetValue("To", out var to) || !E164().IsMatch(to) ? "To must be an E.164 number"
            : !form.TryGetValue("From", out var from) || !E164().IsMatch(from) ? "From must be an E.164 number"
            : new[] { "Url", "Twiml", "ApplicationSid" }.Count(form.ContainsKey) != 1 ? "exactly one of Url, Twiml, ApplicationSid is required"
            : form.TryGetValue("Twiml", out var twiml) && (twiml.Length > 4000 || !twiml.StartsWith("<Response>", StringComparison.Ordinal)) ? "Twiml must be a <Response> under 4000 characters"
            : null;
        if (problem is not null)
        {
            Reject(context, "Twilio Calls: " + problem);
            await Json(context, 400, TwilioErrorBody(21205, problem, 400));
            return;
        }
        lock (_gate) _calls.Add(new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? "", context.Request.ContentType, user, form));
        var sid = "CA" + Guid.NewGuid().ToString("N");
        Remember(sid, form);
        await Json(context, 201, new { sid, account_sid = AccountSid, to, from = form["From"], status = "queued", api_version = "2010-04-01" });
    }

    [GeneratedRegex(@"^/2010-04-01/Accounts/(?<sid>[^/]+)/Calls\.json$")]
    private static partial Regex TwilioCallsPath();

    /// <summary>Receipts handed out for emergency-priority messages so far.</summary>
    public IReadOnlyList<string> PushoverReceipts { get { lock (_gate) return [.. _receipts.Keys]; } }

    /// <summary>Someone acknowledged the emergency notification on their phone: the receipts API says so from now on.</summary>
    public void AcknowledgeReceipt(string receipt, string userKey)
    {
        lock (_gate) _receipts[receipt] = userKey;
    }

    /// <summary>GET /1/receipts/{receipt}.json?token=APP: Pushover's receipt status, as its API documents it.</summary>
    private async Task HandlePushoverReceiptAsync(HttpContext context, string receipt)
    {
        if (!HttpMethods.IsGet(context.Request.Method) || context.Request.Query["token"] != PushoverAppToken)
        {
            Reject(context, "Pushover receipts: bad method or token");
            await Json(context, 400, PushoverErrorBody("token", "invalid", "application token is invalid"));
            return;
        }
        bool known;
        string? by;
        lock (_gate) known = _receipts.TryGetValue(receipt, out by);
        if (!known)
        {
            await Json(context, 404, PushoverErrorBody("receipt", "not found", "receipt not found; may be invalid or expired"));
            return;
        }
        await Json(context, 200, new
        {
            status = 1, acknowledged = by is null ? 0 : 1, acknowledged_at = by is null ? 0 : 1700000000, acknowledged_by = by ?? "",
            acknowledged_by_device = by is null ? "" : "phone", last_delivered_at = 1700000000, expired = 0, expires_at = 1700003600,
            called_back = 0, called_back_at = 0, request = Guid.NewGuid().ToString(),
        });
    }

    [GeneratedRegex(@"^/1/receipts/(?<receipt>[A-Za-z0-9]+)\.json$")]
    private static partial Regex PushoverReceiptPath();
}
