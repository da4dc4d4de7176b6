using Microsoft.AspNetCore.Http;

namespace Larsbot.Intake;

/// <summary>The bits of request authentication every HTTP endpoint shares with POST /alerts.</summary>
internal static class HttpAuth
{
    /// <summary>The Bearer token, null when there is no Authorization header; Malformed when it is not Bearer.</summary>
    public static (string? Token, bool Malformed) Bearer(HttpRequest request)
    {
        if (request.Headers.Authorization is not { Count: > 0 } authz) return (null, false);
        var value = authz.ToString();
        return value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? (value["Bearer ".Length..].Trim(), false) : (null, true);
    }

    /// <summary>
    /// Reads at most <paramref name="max"/> bytes; null when the body is longer (never buffers much more than max).
    /// Straight from Kestrel's pipe: no 16 KiB buffer and stream copy per request, which at 20,000 alerts a second
    /// was most of what the garbage collector had to do.
    /// </summary>
    public static async Task<byte[]?> ReadCappedAsync(HttpRequest request, int max, CancellationToken ct)
    {
        if (request.ContentLength > max) return null;
        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            if (buffer.Length > max)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }
            if (result.IsCompleted || result.IsCanceled)
            {
                var bytes = System.Buffers.BuffersExtensions.ToArray(buffer);
                reader.AdvanceTo(buffer.End);
                return bytes;
            }
            // Nothing consumed yet: ask for more until the body is complete.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Alert hosts may not hold spaces or control characters; labels from other tools sometimes do.</summary>
    public static string? CleanHost(string? host)
    {
        if (string.IsNullOrWhiteSpace(host)) return null;
        var chars = host.Trim().Select(ch => char.IsWhiteSpace(ch) || char.IsControl(ch) ? '_' : ch).ToArray();
        var s = new string(chars);
        return s.Length <= AlertIntake.MaxHostLength ? s : s[..AlertIntake.MaxHostLength];
    }
}
