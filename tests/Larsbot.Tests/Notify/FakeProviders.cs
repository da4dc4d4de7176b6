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

/// <summary>
/// A loopback stand-in for Twilio's Messages API and Pushover's messages API on a real Kestrel server
/// (http://127.0.0.1:random). It checks requests the way the real APIs do (method, path, Basic auth, form content,
/// required fields), records every accepted one, and answers either with success or with a scripted sequence.
/// Both providers live on the one <see cref="BaseUrl"/>: point TwilioOptions.BaseUrl and PushoverOptions.BaseUrl at it.
/// </summary>
public sealed partial class FakeProviders : IAsyncDisposable
{
    public const string DefaultAccountSid = "AC0123456789abcdef0123456789abcdef";
    public const string DefaultAuthToken = "f00dfeedf00dfeedf00dfeedf00dfeed";
    public const string DefaultTwilioFrom = "+15005550006";
    public const string DefaultPushoverAppToken = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";

    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly List<RecordedRequest> _twilio = [];
    private readonly List<RecordedRequest> _pushover = [];
    private readonly List<string> _rejections = [];
    private readonly Queue<FakeAnswer> _twilioScript = new();
    private readonly Queue<FakeAnswer> _pushoverScript = new();
    private readonly Dictionary<int, TaskCompletionSource<RecordedRequest>> _twilioWaiters = [];
    private readonly Dictionary<int, TaskCompletionSource<RecordedRequest>> _pushoverWaiters = [];
    private bool _stopped;

    private FakeProviders(WebApplication app, string accountSid, string authToken, string pushoverAppToken)
    {
        _app = app;
        AccountSid = accountSid;
        AuthToken = authToken;
        PushoverAppToken = pushoverAppToken;
        app.Run(HandleAsync);
    }

    /// <summary>Starts a stand-in expecting these credentials (defaults: the Default* constants).</summary>
    public static async Task<FakeProviders> StartAsync(
        string accountSid = DefaultAccountSid, string authToken = DefaultAuthToken, string pushoverAppToken = DefaultPushoverAppToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var fake = new FakeProviders(builder.Build(), accountSid, authToken, pushoverAppToken);
        await fake._app.StartAsync();
        var address = fake._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseUrl = address.TrimEnd('/');
        return fake;
    }

    /// <summary>"http://127.0.0.1:port", no trailing slash.</summary>
    public string BaseUrl { get; private set; } = "";

    public string AccountSid { get; }
    public string AuthToken { get; }
    public string PushoverAppToken { get; }

    public IReadOnlyList<RecordedRequest> TwilioRequests { get { lock (_gate) { return _twilio.ToArray(); } } }
    public IReadOnlyList<RecordedRequest> PushoverRequests { get { lock (_gate) { return _pushover.ToArray(); } } }

    /// <summary>Why requests were refused (401, 400, ...), for failure messages.</summary>
    public IReadOnlyList<string> Rejections { get { lock (_gate) { return _rejections.ToArray(); } } }

    /// <summary>Answers for the next accepted Twilio requests, in order; afterwards requests succeed again.</summary>
    public void ScriptTwilio(params FakeAnswer[] answers)
    {
        lock (_gate) { foreach (var a in answers) { _twilioScript.Enqueue(a); } }
    }

    public void ScriptPushover(params FakeAnswer[] answers)
    {
        lock (_gate) { foreach (var a in answers) { _pushoverScript.Enqueue(a); } }
    }

    /// <summary>Waits for the <paramref name="n"/>th accepted Twilio request (1-based), scripted or not.</summary>
    public Task<RecordedRequest> WaitForTwilioRequestAsync(int n, TimeSpan? timeout = null) => WaitAsync("Twilio", _twilio, _twilioWaiters, n, timeout);

    public Task<RecordedRequest> WaitForPushoverRequestAsync(int n, TimeSpan? timeout = null) => WaitAsync("Pushover", _pushover, _pushoverWaiters, n, timeout);

    public async Task StopAsync()
    {
        lock (_gate)
        {
            if (_stopped) { return; }
            _stopped = true;
        }
        await _stopping.CancelAsync();
        await _app.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task<RecordedRequest> WaitAsync(
        string provider, List<RecordedRequest> list, Dictionary<int, TaskCompletionSource<RecordedRequest>> waiters, int n, TimeSpan? timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        TaskCompletionSource<RecordedRequest> waiter;
        lock (_gate)
        {
            if (list.Count >= n) { return list[n - 1]; }
            if (!waiters.TryGetValue(n, out waiter!))
            {
                waiter = new(TaskCreationOptions.RunContinuationsAsynchronously);
                waiters[n] = waiter;
            }
        }
        var limit = timeout ?? TimeSpan.FromSeconds(10);
        try
        {
            return await waiter.Task.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"{provider} request #{n} did not arrive within {limit.TotalSeconds} s; accepted {list.Count}; rejections: [{string.Join(" | ", Rejections)}]");
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        context.Items[ArrivedKey] = DateTimeOffset.UtcNow;
        if (TwilioResourcePath().Match(path) is { Success: true } resource)
        {
            await HandleTwilioResourceAsync(context, resource.Groups["kind"].Value, resource.Groups["sid"].Value);
        }
        else if (PushoverCancelPath().Match(path) is { Success: true } cancel)
        {
            await HandlePushoverCancelAsync(context, cancel.Groups["receipt"].Value);
        }
        else if (path == "/1/messages.json")
        {
            await HandlePushoverAsync(context);
        }
        else if (PushoverReceiptPath().Match(path) is { Success: true } receipt)
        {
            await HandlePushoverReceiptAsync(context, receipt.Groups["receipt"].Value);
        }
        else if (TwilioMessagesPath().Match(path) is { Success: true } match)
        {
            await HandleTwilioAsync(context, match.Groups["sid"].Value);
        }
        else if (TwilioCallsPath().Match(path) is { Success: true } call)
        {
            await HandleTwilioCallAsync(context, call.Groups["sid"].Value);
        }
        else
        {
            Reject(context, $"{context.Request.Method} {path}: no such resource");
            await Json(context, 404, new { code = 20404, message = $"The requested resource {path} was not found", more_info = "https://www.twilio.com/docs/errors/20404", status = 404 });
        }
    }

    private async Task HandleTwilioAsync(HttpContext context, string pathSid)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            Reject(context, "Twilio: method not allowed");
            await Json(context, 405, TwilioErrorBody(20004, "Method not allowed", 405));
            return;
        }
        var (user, password) = BasicCredentials(context.Request);
        if (user != AccountSid || password != AuthToken || pathSid != AccountSid)
        {
            Reject(context, $"Twilio: authentication failed (user {user ?? "none"}, path sid {pathSid})");
            await Json(context, 401, TwilioErrorBody(20003, "Authenticate", 401));
            return;
        }
        if (!IsForm(context.Request))
        {
            Reject(context, $"Twilio: content type {context.Request.ContentType}");
            await Json(context, 415, TwilioErrorBody(20415, "Unsupported Media Type", 415));
            return;
        }
        var form = await ReadFormAsync(context);
        var error = TwilioFieldError(form);
        if (error is { } e)
        {
            Reject(context, $"Twilio: {e.Code} {e.Message}");
            await Json(context, 400, TwilioErrorBody(e.Code, e.Message, 400));
            return;
        }

        var answer = Record(context, form, user, _twilio, _twilioScript, _twilioWaiters);
        if (answer is null)
        {
            var sid = "SM" + Guid.NewGuid().ToString("N");
            Remember(sid, form);
            await Json(context, 201, new
            {
                sid, account_sid = AccountSid, to = form["To"], from = form["From"], body = form["Body"], status = "queued",
                direction = "outbound-api", api_version = "2010-04-01", num_segments = "1",
                uri = $"/2010-04-01/Accounts/{AccountSid}/Messages/{sid}.json",
            });
            return;
        }
        await AnswerAsync(context, answer);
    }

    private async Task HandlePushoverAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            Reject(context, "Pushover: method not allowed");
            await Json(context, 404, PushoverErrorBody(null, null, "resource not found"));
            return;
        }
        if (!IsForm(context.Request))
        {
            Reject(context, $"Pushover: content type {context.Request.ContentType}");
            await Json(context, 400, PushoverErrorBody("message", "cannot be blank", "message cannot be blank"));
            return;
        }
        var form = await ReadFormAsync(context);
        object? error =
            !form.TryGetValue("token", out var token) || token != PushoverAppToken
                ? PushoverErrorBody("token", "invalid", "application token is invalid")
            : !form.TryGetValue("user", out var user) || !PushoverKey().IsMatch(user)
                ? PushoverErrorBody("user", "invalid", "user identifier is not a valid user, group, or subscribed user key")
            : !form.TryGetValue("message", out var message) || string.IsNullOrWhiteSpace(message)
                ? PushoverErrorBody("message", "cannot be blank", "message cannot be blank")
            : message.Length > 1024
                ? PushoverErrorBody("message", "is too long", "message is too long (maximum is 1024 characters)")
            : form.TryGetValue("title", out var title) && title.Length > 250
                ? PushoverErrorBody("title", "is too long", "title is too long (maximum is 250 characters)")
            : form.TryGetValue("priority", out var priority) && (!int.TryParse(priority, out var p) || p is < -2 or > 2)
                ? PushoverErrorBody("priority", "is invalid", "priority is invalid")
            : form.GetValueOrDefault("priority") == "2" && !(int.TryParse(form.GetValueOrDefault("retry"), out var r) && r >= 30
                                                              && int.TryParse(form.GetValueOrDefault("expire"), out var x) && x <= 10800)
                ? PushoverErrorBody("retry", "is invalid", "retry must be at least 30 and expire at most 10800 for emergency priority")
            : null;
        if (error is not null)
        {
            Reject(context, "Pushover: " + JsonSerializer.Serialize(error));
            await Json(context, 400, error);
            return;
        }

        var answer = Record(context, form, null, _pushover, _pushoverScript, _pushoverWaiters);
        if (answer is null)
        {
            if (form.GetValueOrDefault("priority") == "2")
            {
                // Emergency priority answers with a receipt to poll (and, in Larsbot's case, to match the callback to).
                var receipt = "r" + Guid.NewGuid().ToString("N")[..29];
                lock (_gate) _receipts[receipt] = null;
                await Json(context, 200, new { status = 1, request = Guid.NewGuid().ToString(), receipt });
                return;
            }
            await Json(context, 200, new { status = 1, request = Guid.NewGuid().ToString() });
            return;
        }
        await AnswerAsync(context, answer);
    }

    private FakeAnswer? Record(
        HttpContext context, Dictionary<string, string> form, string? user, List<RecordedRequest> list, Queue<FakeAnswer> script,
        Dictionary<int, TaskCompletionSource<RecordedRequest>> waiters)
    {
        var request = new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? "", context.Request.ContentType, user, form)
        {
            At = context.Items[ArrivedKey] is DateTimeOffset at ? at : DateTimeOffset.UtcNow,
        };
        TaskCompletionSource<RecordedRequest>? waiter;
        FakeAnswer? answer;
        lock (_gate)
        {
            list.Add(request);
            waiters.Remove(list.Count, out waiter);
            script.TryDequeue(out answer);
        }
        waiter?.TrySetResult(request);
        return answer;
    }

    private async Task AnswerAsync(HttpContext context, FakeAnswer answer)
    {
        await SlowAsync(context);
        if (answer.Hang)
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            try
            {
                await Task.Delay(Timeout.Infinite, either.Token);
            }
            catch (OperationCanceledException)
            {
            }
            context.Abort();
            return;
        }
        context.Response.StatusCode = answer.Status;
        if (answer.RetryAfter is not null)
        {
            context.Response.Headers.RetryAfter = answer.RetryAfter;
        }
        if (answer.Body is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.Body);
        }
    }

    private void Reject(HttpContext context, string why)
    {
        lock (_gate) { _rejections.Add($"{context.Request.Method} {context.Request.Path}: {why}"); }
    }

    private static (int Code, string Message)? TwilioFieldError(Dictionary<string, string> form)
    {
        if (!form.TryGetValue("To", out var to) || to.Length == 0) { return (21604, "A 'To' phone number is required."); }
        if (!E164().IsMatch(to)) { return (21211, $"The 'To' number {to} is not a valid phone number."); }
        if (!form.TryGetValue("From", out var from) || from.Length == 0) { return (21603, "A 'From' phone number is required."); }
        if (!form.TryGetValue("Body", out var body) || body.Length == 0) { return (21602, "Message body is required."); }
        if (body.Length > 1600) { return (21617, "The concatenated message body exceeds the 1600 character limit."); }
        return null;
    }

    private static object TwilioErrorBody(int code, string message, int status) =>
        new { code, message, more_info = $"https://www.twilio.com/docs/errors/{code}", status };

    private static Dictionary<string, object> PushoverErrorBody(string? field, string? problem, string error)
    {
        var body = new Dictionary<string, object> { ["errors"] = new[] { error }, ["status"] = 0, ["request"] = Guid.NewGuid().ToString() };
        if (field is not null && problem is not null) { body[field] = problem; }
        return body;
    }

    private static (string? User, string? Password) BasicCredentials(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) { return (null, null); }
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
            var colon = decoded.IndexOf(':');
            return colon < 0 ? (decoded, null) : (decoded[..colon], decoded[(colon + 1)..]);
        }
        catch (FormatException)
        {
            return (null, null);
        }
    }

    private static bool IsForm(HttpRequest request) =>
        request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true;

    private static async Task<Dictionary<string, string>> ReadFormAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        return form.ToDictionary(kv => kv.Key, kv => kv.Value.ToString(), StringComparer.Ordinal);
    }

    private async Task Json(HttpContext context, int status, object body)
    {
        await SlowAsync(context);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    [GeneratedRegex(@"^/2010-04-01/Accounts/(?<sid>[^/]+)/Messages\.json$")]
    private static partial Regex TwilioMessagesPath();

    [GeneratedRegex(@"^\+[1-9][0-9]{1,14}$")]
    private static partial Regex E164();

    [GeneratedRegex("^[A-Za-z0-9]{30}$")]
    private static partial Regex PushoverKey();
}
