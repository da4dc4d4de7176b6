using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Larsbot.Tests.Notify;

/// <summary>A slow provider, and Pushover's receipt cancel API (POST /1/receipts/{receipt}/cancel.json, form token).</summary>
public sealed partial class FakeProviders
{
    private const string ArrivedKey = "fake.arrived";
    private readonly List<RecordedRequest> _cancels = [];
    private readonly HashSet<string> _cancelled = [];

    /// <summary>How long every answer takes (a slow but healthy provider). Requests keep their arrival time in <see cref="RecordedRequest.At"/>.</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>Receipt cancel requests accepted so far (Path names the receipt).</summary>
    public IReadOnlyList<RecordedRequest> PushoverCancels { get { lock (_gate) return [.. _cancels]; } }

    /// <summary>Receipts cancelled: Pushover stops retrying them.</summary>
    public IReadOnlyCollection<string> CancelledReceipts { get { lock (_gate) return [.. _cancelled]; } }

    /// <summary>A slow but healthy provider: the request is in (and recorded), the answer takes <see cref="ResponseDelay"/>.</summary>
    private async Task SlowAsync(HttpContext context)
    {
        if (ResponseDelay <= TimeSpan.Zero) return;
        try
        {
            await Task.Delay(ResponseDelay, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
            context.Abort();
        }
    }

    private async Task HandlePushoverCancelAsync(HttpContext context, string receipt)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || !IsForm(context.Request))
        {
            Reject(context, "Pushover cancel: POST with a form expected");
            await Json(context, 400, PushoverErrorBody("token", "invalid", "application token is invalid"));
            return;
        }
        var form = await ReadFormAsync(context);
        if (form.GetValueOrDefault("token") != PushoverAppToken)
        {
            Reject(context, "Pushover cancel: bad token");
            await Json(context, 400, PushoverErrorBody("token", "invalid", "application token is invalid"));
            return;
        }
        bool known;
        lock (_gate)
        {
            known = _receipts.ContainsKey(receipt);
            _cancels.Add(new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? "", context.Request.ContentType, null, form)
            {
                At = context.Items[ArrivedKey] is DateTimeOffset at ? at : DateTimeOffset.UtcNow,
            });
            if (known) _cancelled.Add(receipt);
        }
        if (!known)
        {
            await Json(context, 404, PushoverErrorBody("receipt", "not found", "receipt not found; may be invalid or expired"));
            return;
        }
        await Json(context, 200, new { status = 1, request = Guid.NewGuid().ToString() });
    }

    [GeneratedRegex(@"^/1/receipts/(?<receipt>[A-Za-z0-9]+)/cancel\.json$")]
    private static partial Regex PushoverCancelPath();
}
