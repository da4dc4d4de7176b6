using System.Security.Cryptography;
using System.Text;
using Larsbot.Intake;
using Larsbot.Notify;
using Larsbot.Paging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Acks;

/// <summary>
/// POST /twilio/status: Twilio's StatusCallback for the SMS and calls the bot sent (form fields MessageSid and
/// MessageStatus, or CallSid and CallStatus, with ErrorCode when it failed), signed with X-Twilio-Signature over the
/// exact URL given as Twilio:StatusCallbackUrl, checked like /twilio/sms.
/// </summary>
internal static class TwilioStatusCallbacks
{
    public static IEndpointRouteBuilder MapTwilioStatusCallbacks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/twilio/status", StatusAsync);
        return app;
    }

    private static async Task<IResult> StatusAsync(HttpContext http, IntakeGate gate, DeliveryReports reports, IOptions<TwilioOptions> twilio,
        IOptions<IntakeOptions> intake, ILoggerFactory logs)
    {
        var log = logs.CreateLogger("Larsbot.Acks.TwilioStatus");
        if (gate.CheckNetwork(http.Connection.RemoteIpAddress) is { } denied) return Results.Text(denied, statusCode: 403);
        if (!twilio.Value.IsConfigured) return Results.Text("Twilio is not configured", statusCode: 404);
        var raw = await HttpAuth.ReadCappedAsync(http.Request, intake.Value.MaxBodyBytes, http.RequestAborted);
        if (raw is null) return Results.Text("too large", statusCode: 413);
        var form = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(raw))
            .SelectMany(kv => kv.Value.Select(v => new KeyValuePair<string, string>(kv.Key, v ?? ""))).ToList();

        var url = twilio.Value.StatusCallbackUrl is { Length: > 0 } configured ? configured
            : $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{http.Request.Path}{http.Request.QueryString}";
        var expected = Encoding.ASCII.GetBytes(PhoneAcks.TwilioSignature(twilio.Value.AuthToken, url, form));
        var given = Encoding.ASCII.GetBytes(http.Request.Headers["X-Twilio-Signature"].ToString());
        if (!CryptographicOperations.FixedTimeEquals(expected, given))
        {
            log.LogWarning("A status callback with a bad X-Twilio-Signature was refused (check Twilio:StatusCallbackUrl is the URL Twilio calls)");
            return Results.Text("bad signature", statusCode: 403);
        }

        string? One(string key) => form.Count(kv => kv.Key == key) == 1 ? form.First(kv => kv.Key == key).Value : null;
        var sid = One("MessageSid") ?? One("CallSid");
        var status = One("MessageStatus") ?? One("CallStatus");
        if (string.IsNullOrEmpty(sid) || string.IsNullOrEmpty(status) || status.Length > 32)
            return Results.Text("MessageSid and MessageStatus (or CallSid and CallStatus) must each come once", statusCode: 400);
        var error = One("ErrorCode") is { Length: > 0 and <= 16 } code ? code : null;
        // Unknown sids are answered 200 too: Twilio would only retry, and nothing can be done with them.
        await reports.RecordAsync(sid, status, error, "callback", http.RequestAborted);
        return Results.Text("", "text/plain");
    }
}
