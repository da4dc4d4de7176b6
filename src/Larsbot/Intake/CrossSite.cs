using System.Net;
using Larsbot.Roster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Larsbot.Intake;

/// <summary>
/// Keeps a web page elsewhere from making the bot page. A browser can send a form post (urlencoded, multipart,
/// text/plain) to any address, loopback included, without asking; it cannot add a token it does not know, nor send
/// application/json cross-site without a CORS preflight (which the bot never grants). So: requests accepted without a
/// token must not carry a foreign <c>Origin</c> (curl sends none); JSON doors insist on application/json; and with
/// <see cref="IntakeOptions.AllowedHosts"/> set, a Host header naming anything else (a DNS-rebinding page's own
/// name) is refused before any endpoint runs.
/// </summary>
public static class CrossSite
{
    /// <summary>403 reason when the request carries an Origin that is not this server (scheme, host and port).</summary>
    public static string? ForeignOrigin(HttpRequest request)
    {
        if (!request.Headers.TryGetValue("Origin", out var values) || values.Count == 0) return null;
        var origin = values.ToString();
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            return "request from a web page (Origin: null or opaque) needs a token";
        var host = request.Host;
        var port = host.Port ?? (request.IsHttps ? 443 : 80);
        var same = string.Equals(uri.Host, host.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase) && uri.Port == port
                   && uri.Scheme == request.Scheme;
        return same ? null : $"request from another site ({Shorten(origin)}) needs a token";
    }

    /// <summary>415 reason when the body is not declared application/json (what a browser could send cross-site is not).</summary>
    public static string? NotJson(HttpRequest request) =>
        request.ContentType is { } t && t.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            ? null
            : $"Content-Type must be application/json (got '{Shorten(request.ContentType ?? "")}')";

    /// <summary>With Intake:AllowedHosts set, other Host names get 400: IP literals and localhost always pass.</summary>
    public static IApplicationBuilder UseAllowedHosts(this IApplicationBuilder app)
    {
        var allowed = app.ApplicationServices.GetRequiredService<IOptions<IntakeOptions>>().Value.AllowedHosts
            .Where(h => !string.IsNullOrWhiteSpace(h)).Select(h => h.Trim()).ToArray();
        if (allowed.Length == 0) return app;
        return app.Use(async (http, next) =>
        {
            if (!IsAllowedHost(http.Request.Host.Host, allowed))
            {
                http.Response.StatusCode = StatusCodes.Status400BadRequest;
                await http.Response.WriteAsJsonAsync(new IntakeError($"unknown Host '{Shorten(http.Request.Host.Host)}' (not in Intake:AllowedHosts)"),
                    IntakeJson.Web.IntakeError);
                return;
            }
            await next(http);
        });
    }

    internal static bool IsAllowedHost(string host, IReadOnlyList<string> allowed)
    {
        if (host.Length == 0) return false;
        // A DNS-rebinding page needs a name the attacker controls: an address typed as such is the bot's own.
        if (IPAddress.TryParse(host.Trim('[', ']'), out _) || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return allowed.Any(a => Wildcard.IsMatch(a, host));
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
