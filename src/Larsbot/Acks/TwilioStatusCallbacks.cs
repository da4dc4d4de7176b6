using Larsbot.Intake;
using Larsbot.Notify;
using Larsbot.Paging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
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
        var (form, refusal) = await TwilioWebhook.ReadSignedFormAsync(http, gate, twilio.Value, intake.Value, twilio.Value.StatusCallbackUrl, log,
            "A status callback with a bad X-Twilio-Signature was refused (check Twilio:StatusCallbackUrl is the URL Twilio calls)");
        if (form is null) return refusal!;

        string? One(string key) => TwilioWebhook.One(form, key);
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
