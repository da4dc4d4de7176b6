using System.Security.Cryptography;
using System.Text;
using Larsbot.Intake;
using Larsbot.Notify;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Larsbot.Acks;

/// <summary>
/// What every Twilio webhook (incoming SMS, status callbacks) does first: the network check, Twilio configured, the
/// body capped, the form read value by value, and X-Twilio-Signature checked over the URL Twilio was given.
/// </summary>
internal static class TwilioWebhook
{
    /// <summary>The signed form, or the answer that refuses the request.</summary>
    public static async Task<(List<KeyValuePair<string, string>>? Form, IResult? Refusal)> ReadSignedFormAsync(HttpContext http, IntakeGate gate,
        TwilioOptions twilio, IntakeOptions intake, string? configuredUrl, ILogger log, string badSignatureHint)
    {
        if (gate.CheckNetwork(http.Connection.RemoteIpAddress) is { } denied) return (null, Results.Text(denied, statusCode: 403));
        if (!twilio.IsConfigured) return (null, Results.Text("Twilio is not configured", statusCode: 404));
        var raw = await HttpAuth.ReadCappedAsync(http.Request, intake.MaxBodyBytes, http.RequestAborted);
        if (raw is null) return (null, Results.Text("too large", statusCode: 413));
        var form = PhoneAcks.FormPairs(Encoding.UTF8.GetString(raw));

        var url = configuredUrl is { Length: > 0 } configured ? configured
            : $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{http.Request.Path}{http.Request.QueryString}";
        var expected = Encoding.ASCII.GetBytes(PhoneAcks.TwilioSignature(twilio.AuthToken, url, form));
        var given = Encoding.ASCII.GetBytes(http.Request.Headers["X-Twilio-Signature"].ToString());
        if (!CryptographicOperations.FixedTimeEquals(expected, given))
        {
            log.LogWarning("{Hint}", badSignatureHint);
            return (null, Results.Text("bad signature", statusCode: 403));
        }
        return (form, null);
    }

    /// <summary>The value of a field Twilio sends once; null when it is missing or came more than once.</summary>
    public static string? One(IReadOnlyList<KeyValuePair<string, string>> form, string key) =>
        form.Count(kv => kv.Key == key) == 1 ? form.First(kv => kv.Key == key).Value : null;
}
