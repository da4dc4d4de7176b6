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

    /// <summary>Reads at most <paramref name="max"/> bytes; null when the body is longer.</summary>
    public static async Task<byte[]?> ReadCappedAsync(Stream body, int max, CancellationToken ct)
    {
        var buffer = new byte[Math.Min(max + 1, 16 * 1024)];
        using var ms = new MemoryStream();
        int n;
        while ((n = await body.ReadAsync(buffer, ct)) > 0)
        {
            ms.Write(buffer, 0, n);
            if (ms.Length > max) return null;
        }
        return ms.ToArray();
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
