using Larsbot.Irc;
using Larsbot.Paging;
using Larsbot.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Larsbot.Hosting;

/// <summary>GET /health: 200 when the bot can take an alert and get a human to it, 503 (with the reason) when not.</summary>
public static class HealthEndpoint
{
    /// <summary>An engine that has not finished a pass for this long is stuck (it looks at least every 30 s).</summary>
    public static readonly TimeSpan EngineStaleAfter = TimeSpan.FromSeconds(90);

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", async (IChannel irc, Database db, PagingEngine engine, OutboxSender outbox, TimeProvider time) =>
        {
            var writable = await db.CanWriteAsync();
            var lastLoop = engine.LastLoopAt;
            var engineAge = lastLoop is { } l ? time.GetUtcNow() - l : (TimeSpan?)null;
            var engineOk = engineAge is { } a && a < EngineStaleAfter;
            var problems = new List<string>();
            if (!irc.IsConnected) problems.Add("not connected to IRC");
            if (!writable) problems.Add("database not writable");
            if (!engineOk) problems.Add(engineAge is null ? "paging engine has not run yet" : "paging engine stalled");
            var body = new
            {
                status = problems.Count == 0 ? "ok" : "unhealthy",
                problems,
                irc = new { connected = irc.IsConnected, nick = irc.CurrentNick },
                database = new { ok = writable, writable },
                engine = new { ok = engineOk, lastLoopAgeSeconds = engineAge is { } e ? Math.Round(e.TotalSeconds, 1) : (double?)null },
                outbox = new { duplicateRisk = outbox.DuplicateRiskCount },
            };
            return Results.Json(body, statusCode: problems.Count == 0 ? 200 : 503);
        });
        return app;
    }
}
