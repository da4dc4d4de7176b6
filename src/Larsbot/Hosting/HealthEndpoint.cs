using Larsbot.Text;
using Dapper;
using Larsbot.Irc;
using Larsbot.Leadership;
using Larsbot.Outbox;
using Larsbot.Paging;
using Larsbot.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Larsbot.Hosting;

/// <summary>
/// GET /health: 200 when the bot can take an alert and get a human to it, 503 (with the reasons) when not. The
/// arbiter watchdog polls this, so "red" must mean "people may not be reached", not "something blipped".
/// </summary>
public static class HealthEndpoint
{
    /// <summary>The engine and the outbox sender each look at least every 30 s; three missed looks is a stall.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(90);

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        var probe = new HealthProbe(app.ServiceProvider.GetRequiredService<Database>(), app.ServiceProvider.GetRequiredService<TimeProvider>(),
            app.ServiceProvider.GetRequiredService<IOptions<PagingOptions>>().Value.PageFailingUnhealthyAfter);
        app.MapGet("/health", async (IChannel irc, PagingEngine engine, OutboxSender outbox, TimeProvider time,
            IOptions<PagingOptions> paging, Role role) =>
        {
            var now = time.GetUtcNow();
            // The database part (a probe write and the pages query) is shared by every request within a second:
            // however fast /health is asked, it costs the writer at most one commit a second.
            var (writable, pages) = await probe.GetAsync();
            var engineAge = engine.LastLoopAt is { } l ? now - l : (TimeSpan?)null;
            var outboxAge = outbox.LastPassAt is { } o ? now - o : (TimeSpan?)null;
            var engineOk = engineAge is { } a && a < StaleAfter;
            var outboxOk = outboxAge is { } b && b < StaleAfter;

            // A standby runs no engine, sender or IRC connection: it is healthy when it can store alerts and watch the lease.
            var leads = role.IsLeader;
            var problems = new List<string>();
            if (leads && !irc.IsConnected) problems.Add("not connected to IRC");
            if (!writable) problems.Add("database not writable");
            if (leads && !engineOk) problems.Add(engineAge is null ? "paging engine has not run yet" : "paging engine stalled");
            if (leads && !outboxOk) problems.Add(outboxAge is null ? "page sender has not run yet" : "page sender stalled");
            if (role.Shared && role.Led.IsCompleted && !leads) problems.Add("lost the lead; stopping");
            if (pages?.FailingLong > 0) problems.Add($"{pages.FailingLong} page(s) failing for over {Wording.Duration(paging.Value.PageFailingUnhealthyAfter)}");
            if (pages?.GaveUpLastHour > 0) problems.Add($"{pages.GaveUpLastHour} page(s) could not be delivered in the last hour");

            var body = new HealthBody(
                problems.Count == 0 ? "ok" : "unhealthy",
                problems,
                new HealthIrc(irc.IsConnected, irc.CurrentNick),
                new HealthDatabase(writable, writable),
                new HealthEngine(engineOk, Seconds(engineAge)),
                new HealthSender(outboxOk, Seconds(outboxAge)),
                new HealthPages(pages?.Retrying, pages?.FailingLong, pages?.GaveUpLastHour, pages?.DuplicateRisk),
                leads ? "leader" : "standby",
                leads ? new HealthLeader(role.Name, 0, role.Shared)
                    : new HealthLeader(role.SeenLeader?.Name, role.SeenLeader is { } s ? Math.Round((s.NowMs - s.RenewedAtMs) / 1000.0, 1) : null, role.Shared));
            return Results.Json(body, HostingJson.Web.HealthBody, statusCode: problems.Count == 0 ? 200 : 503);
        });
        return app;
    }

    private static double? Seconds(TimeSpan? t) => t is { } v ? Math.Round(v.TotalSeconds, 1) : null;

    /// <summary>
    /// The database half of /health, evaluated at most once per <see cref="CacheFor"/>: callers within that time (and
    /// callers arriving while it runs) share one probe write and one pages query. A write that failed anywhere since
    /// (an alert that got 503) makes the next caller probe again, so a broken disk shows at once.
    /// </summary>
    public sealed class HealthProbe(Database db, TimeProvider time, TimeSpan pageFailingFor)
    {
        public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
        private readonly Lock _lock = new();
        private Task<(bool Writable, PageHealth? Pages)>? _current;
        private long _startedAt;
        private int _failuresSeen = -1;

        public Task<(bool Writable, PageHealth? Pages)> GetAsync()
        {
            lock (_lock)
            {
                if (_current is not null && (!_current.IsCompleted
                                             || (time.GetElapsedTime(_startedAt) < CacheFor && Volatile.Read(ref _failuresSeen) == db.WriteFailures)))
                    return _current;
                _startedAt = time.GetTimestamp();
                return _current = ProbeAsync();
            }
        }

        private async Task<(bool, PageHealth?)> ProbeAsync()
        {
            await Task.Yield(); // never run the probe under the lock
            try
            {
                var writable = await db.CanWriteAsync();
                Volatile.Write(ref _failuresSeen, db.WriteFailures);
                return (writable, await PageHealthAsync(db, time.GetUtcNow(), pageFailingFor));
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
            {
                return (false, null);
            }
        }
    }

    public sealed class PageHealth
    {
        public long Retrying { get; set; }
        public long FailingLong { get; set; }
        public long GaveUpLastHour { get; set; }
        public long DuplicateRisk { get; set; }
    }

    private static async Task<PageHealth?> PageHealthAsync(Database db, DateTimeOffset now, TimeSpan failingFor)
    {
        try
        {
            return await db.ReadAsync(c => c.QuerySingleAsync<PageHealth>("""
                SELECT
                  (SELECT COUNT(*) FROM pages WHERE state = 'due' AND attempts > 0) AS retrying,
                  (SELECT COUNT(*) FROM pages WHERE state IN ('due', 'sending') AND attempts > 0 AND created_at <= @failingSince) AS failing_long,
                  (SELECT COUNT(*) FROM pages p WHERE state = 'failed'
                     AND (SELECT MAX(finished_at) FROM page_attempts a WHERE a.page_id = p.id) >= @hourAgo) AS gave_up_last_hour,
                  (SELECT COUNT(*) FROM page_attempts a WHERE may_have_been_delivered = 1
                     AND EXISTS (SELECT 1 FROM page_attempts b WHERE b.page_id = a.page_id AND b.id > a.id)) AS duplicate_risk
                """, new { failingSince = UnixMs.From(now - failingFor), hourAgo = UnixMs.From(now - TimeSpan.FromHours(1)) }));
        }
        catch (Exception e) when (Database.IsDatabaseFault(e))
        {
            return null;
        }
    }
}
