using System.Net;
using System.Text;
using System.Text.Json;

namespace Larsbot.Notify;

/// <summary>What one HTTP attempt to a provider came to, before the provider-specific reading of the answer.</summary>
internal abstract record HttpAttempt
{
    private HttpAttempt() { }

    /// <summary>The provider answered with a status (body cut to a bounded size).</summary>
    public sealed record Answered(int Status, string Body, TimeSpan? RetryAfter) : HttpAttempt;

    /// <summary>No answer: timeout or network error.</summary>
    public sealed record Failed(string Reason, bool MayHaveBeenDelivered) : HttpAttempt;
}

/// <summary>
/// The part every HTTP notifier shares: one attempt under a timeout, telling the attempt's own timeout apart from
/// the caller's cancellation (which propagates), and turning the answer into one short line.
/// </summary>
internal static class ProviderHttp
{
    private const int MaxBodyBytes = 64 * 1024;
    private const int MaxSummaryLength = 300;

    public static async Task<HttpAttempt> SendAsync(
        HttpClient http, HttpRequestMessage request, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var timeoutCts = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            string body;
            try
            {
                body = await ReadBoundedAsync(response.Content, linked.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException
                                       || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // The status already arrived: a success cut short is still a success, and must not be sent again.
                body = $"(body unreadable: {(ex is OperationCanceledException ? "timeout" : Innermost(ex).Message)})";
            }
            return new HttpAttempt.Answered((int)response.StatusCode, body, RetryAfter(response, time));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Our timeout, or HttpClient.Timeout: the provider may have got the request and acted on it.
            var which = timeoutCts.IsCancellationRequested ? $"after {timeout.TotalSeconds:0.###} s" : $"(HttpClient.Timeout {http.Timeout})";
            return new HttpAttempt.Failed($"timeout {which}", MayHaveBeenDelivered: true);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return new HttpAttempt.Failed($"network error: {Innermost(ex).Message}", MayHaveBeenDelivered: MayHaveReachedProvider(ex));
        }
    }

    /// <summary>Retry-After as seconds or as an HTTP date (measured against <paramref name="time"/>), never negative.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time)
    {
        var header = response.Headers.RetryAfter;
        TimeSpan? wait = header switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - time.GetUtcNow(),
            _ => null,
        };
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
    }

    /// <summary>"HTTP 400 BadRequest: summary" on one line, the summary cut short.</summary>
    public static string Describe(int status, string summary)
    {
        var name = Enum.IsDefined(typeof(HttpStatusCode), status) ? $" {(HttpStatusCode)status}" : "";
        var line = OneLine(summary);
        return line.Length == 0 ? $"HTTP {status}{name}" : $"HTTP {status}{name}: {line}";
    }

    public static string OneLine(string text, int max = MaxSummaryLength)
    {
        var collapsed = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return Cap(collapsed, max);
    }

    /// <summary>Cuts text to at most <paramref name="max"/> UTF-16 units without splitting a surrogate pair.</summary>
    public static string Cap(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }
        var keep = max - 1;
        if (char.IsHighSurrogate(text[keep - 1]))
        {
            keep--;
        }
        return text[..keep] + "…";
    }

    /// <summary>The body as a JSON object, or null when it is not one (an HTML error page from a proxy, say).</summary>
    public static JsonElement? TryParseObject(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<string> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxBodyBytes];
        var filled = 0;
        int read;
        while (filled < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken)) > 0)
        {
            filled += read;
        }
        return Encoding.UTF8.GetString(buffer, 0, filled);
    }

    // A failed connect or TLS handshake means no request bytes reached the provider, so a retry cannot duplicate.
    private static bool MayHaveReachedProvider(Exception ex) =>
        ex is not HttpRequestException
        {
            HttpRequestError: HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError
                or HttpRequestError.SecureConnectionError
        };

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }
        return ex;
    }
}
