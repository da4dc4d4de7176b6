using System.Security.Cryptography;
using System.Security;
using System.Text;
using Larsbot.Intake;
using Larsbot.Notify;
using Larsbot.Paging;
using Larsbot.Roster;
using Larsbot.Storage;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Acks;

/// <summary>
/// Acks from wherever people are: a reply to the page SMS (Twilio's incoming-message webhook, signature checked) and
/// POST /ack with a personal token. Both go through <see cref="PagingEngine.AckAsync"/>, so they are announced in the
/// channel and counted in the ledger exactly like `lars ack`, with their source recorded.
/// </summary>
internal static class PhoneAcks
{
    public static IServiceCollection AddPhoneAcks(this IServiceCollection services, Microsoft.Extensions.Configuration.IConfiguration config)
    {
        // Checked while the host is built, so `larsbot check` reports them too. Values are never echoed.
        var problems = (config.GetSection("Acks").Get<AckOptions>() ?? new AckOptions()).Validate()
            .Concat((config.GetSection("Pushover").Get<PushoverOptions>() ?? new PushoverOptions()).ValidateCallbackSecret()).ToList();
        if (problems.Count > 0) throw new Setup.StartupException(string.Join("; ", problems));
        services.Configure<AckOptions>(config.GetSection("Acks"));
        return services;
    }

    public static IEndpointRouteBuilder MapPhoneAcks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/twilio/sms", TwilioSmsAsync);
        app.MapPost("/ack", HttpAckAsync);
        return app;
    }

    /// <summary>
    /// X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + each POST key and value, keys sorted ordinally)). A key
    /// sent more than once appears once per value, its values in the order they came (the sort is stable), so
    /// <c>a=1&amp;a=2</c> and <c>a=1,2</c> sign differently.
    /// </summary>
    public static string TwilioSignature(string authToken, string url, IEnumerable<KeyValuePair<string, string>> form)
    {
        var sb = new StringBuilder(url);
        foreach (var kv in form.OrderBy(kv => kv.Key, StringComparer.Ordinal)) sb.Append(kv.Key).Append(kv.Value);
        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(sb.ToString())));
    }

    /// <summary>A form body as its key/value pairs, in order, one pair per value (repeated keys kept apart).</summary>
    internal static List<KeyValuePair<string, string>> FormPairs(string body) =>
        QueryHelpers.ParseQuery(body).SelectMany(kv => kv.Value.Select(v => new KeyValuePair<string, string>(kv.Key, v ?? ""))).ToList();

    private static async Task<IResult> TwilioSmsAsync(HttpContext http, IntakeGate gate, AckStore acks, TeamRoster roster, Database db,
        TimeProvider time, IOptions<TwilioOptions> twilio, IOptions<AckOptions> options, IOptions<IntakeOptions> intake, ILoggerFactory logs)
    {
        var log = logs.CreateLogger("Larsbot.Acks.TwilioSms");
        var (form, refusal) = await TwilioWebhook.ReadSignedFormAsync(http, gate, twilio.Value, intake.Value, options.Value.TwilioSmsUrl, log,
            "Incoming SMS with a bad X-Twilio-Signature refused (check Acks:TwilioSmsUrl matches the URL set in Twilio)");
        if (form is null) return refusal!;

        // Twilio sends each of these once; a request with none or two is not one of its incoming messages.
        string? One(string key) => TwilioWebhook.One(form, key);
        var sid = One("MessageSid");
        var from = One("From");
        var text = One("Body");
        if (string.IsNullOrEmpty(sid) || from is null || text is null) return Results.Text("MessageSid, From and Body must each come once", statusCode: 400);

        // A signature never expires, so a captured request could be sent again: each MessageSid is taken once, and
        // durably, before anything is done for it.
        var fresh = await db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO twilio_message_sids(message_sid, seen_at, from_number) VALUES (@sid, @at, @from) ON CONFLICT DO NOTHING",
            new { sid, at = UnixMs.From(time.GetUtcNow()), from }, tx), http.RequestAborted) == 1;
        if (!fresh)
        {
            log.LogWarning("Incoming SMS with an already handled MessageSid ignored (a replayed request)");
            return Reply(null);
        }

        var body = text.Trim().TrimEnd('!', '.').ToLowerInvariant();
        var person = roster.People.FirstOrDefault(p => p.Phone is not null && p.Phone == from);
        if (person is null)
        {
            // A stranger learns nothing; the operator sees it in the log.
            log.LogWarning("Incoming SMS from a number not in the roster ignored");
            return Reply(null);
        }
        if (body is not ("ack" or "a" or "ok"))
            return Reply("Larsbot: reply 'ack' to ack all open pages.");
        try
        {
            await acks.AckAsync($"{person.Id} (sms)", person, "sms", http.RequestAborted);
        }
        catch
        {
            // Not acked after all: let the same message count if it comes again.
            await db.WriteAsync((c, tx) => c.ExecuteAsync("DELETE FROM twilio_message_sids WHERE message_sid = @sid", new { sid }, tx));
            throw;
        }
        return Reply("Larsbot: acked. Ack mode is on.");
    }

    /// <summary>TwiML: Twilio sends the message back to the phone; an empty Response sends nothing.</summary>
    private static IResult Reply(string? text) => Results.Text(
        text is null ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
            : $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{SecurityElement.Escape(text)}</Message></Response>",
        "text/xml");

    /// <summary>POST /ack needs no body; a form carrying only its token fits easily.</summary>
    public const int MaxAckBodyBytes = 4096;

    private static async Task<IResult> HttpAckAsync(HttpContext http, IntakeGate gate, AckStore acks, TeamRoster roster,
        IOptions<AckOptions> options, IOptions<IntakeOptions> intake)
    {
        if (gate.CheckNetwork(http.Connection.RemoteIpAddress) is { } denied) return Results.Json(new AckError(denied), AcksJson.Web.AckError, statusCode: 403);
        var (token, malformed) = HttpAuth.Bearer(http.Request);
        if (malformed) return Results.Json(new AckError("Authorization must be 'Bearer <token>'"), AcksJson.Web.AckError, statusCode: 401);
        // A Bearer token is checked before any body is read (the body is never read then). Only without one is a
        // small urlencoded body read, capped, for its 'token' field: a stranger cannot make the bot buffer a form.
        if (token is null && http.Request.ContentType is { } type && type.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            var raw = await HttpAuth.ReadCappedAsync(http.Request, MaxAckBodyBytes, http.RequestAborted);
            if (raw is null) return Results.Json(new AckError($"body over {MaxAckBodyBytes} bytes"), AcksJson.Web.AckError, statusCode: 413);
            token = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(raw)).TryGetValue("token", out var t) ? t.FirstOrDefault() : null;
        }
        if (string.IsNullOrEmpty(token))
            return Results.Json(new AckError("missing token: send 'Authorization: Bearer <token>' or a 'token' field"), AcksJson.Web.AckError, statusCode: 401);

        // Every configured token is compared (fixed time, as digests), so timing tells a guesser nothing.
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        AckToken? found = null;
        foreach (var t in options.Value.Tokens.Where(t => t.Token.Length > 0))
            if (CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(t.Token)), digest)) found = t;
        if (found is null) return Results.Json(new AckError("bad token"), AcksJson.Web.AckError, statusCode: 401);
        var person = roster.FindById(found.Person);
        if (person is null)
            return Results.Json(new AckError($"token's person '{found.Person}' is not in the roster"), AcksJson.Web.AckError, statusCode: 403);
        await acks.AckAsync($"{person.Id} (http)", person, "http", http.RequestAborted);
        return Results.Json(new AckDone(true, person.Id), AcksJson.Web.AckDone);
    }
}
