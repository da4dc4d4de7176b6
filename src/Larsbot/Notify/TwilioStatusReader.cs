using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Larsbot.Notify;

/// <summary>
/// Asks Twilio what became of a message or call it accepted (GET .../Messages/{sid}.json or .../Calls/{sid}.json):
/// the fallback for status callbacks when the bot has no public URL.
/// </summary>
internal sealed class TwilioStatusReader(HttpClient http, TwilioOptions options)
{
    private readonly AuthenticationHeaderValue _authorization =
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.AccountSid}:{options.AuthToken}")));

    /// <summary>The resource's status and error code, or null when Twilio could not be asked (tried again later).</summary>
    public async Task<(string Status, string? ErrorCode)?> ReadAsync(string channel, string sid, CancellationToken ct)
    {
        var kind = channel == "call" ? "Calls" : "Messages";
        var url = $"{options.BaseUrl.TrimEnd('/')}/2010-04-01/Accounts/{Uri.EscapeDataString(options.AccountSid)}/{kind}/{Uri.EscapeDataString(sid)}.json";
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = _authorization;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(options.Timeout);
        try
        {
            using var response = await http.SendAsync(request, cts.Token);
            if (!response.IsSuccessStatusCode) return null;
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cts.Token));
            var root = json.RootElement;
            if (!root.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.String) return null;
            var code = root.TryGetProperty("error_code", out var e) && e.ValueKind is JsonValueKind.Number or JsonValueKind.String ? e.ToString() : null;
            return (status.GetString()!, string.IsNullOrEmpty(code) ? null : code);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return null;
        }
    }
}
