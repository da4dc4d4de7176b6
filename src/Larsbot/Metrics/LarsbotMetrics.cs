using Dapper;
using Larsbot.Intake;
using Larsbot.Irc;
using Larsbot.Paging;
using Larsbot.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Larsbot.Metrics;

/// <summary>
/// GET /metrics in the Prometheus text format. Every value is read from the database at scrape time (the database
/// is the source of truth), so counters survive a restart and no hot path carries metric code. Counters over growing
/// tables read only the rows added since the last scrape. The registry is this
/// host's own, not prometheus-net's global one, so two bots in one process (tests) never share numbers.
/// </summary>
internal sealed class LarsbotMetrics
{
    private static readonly double[] AckBuckets = [10, 30, 60, 120, 300, 600, 1800, 3600];
    private readonly Database _db;
    private readonly IChannel _irc;
    private readonly TimeProvider _time;
    private readonly Counter _alerts;
    private readonly Counter _pages;
    private readonly Counter _deliveries;
    private readonly Histogram _ackLatency;
    private readonly Gauge _countdowns;
    private readonly Gauge _ackMode;
    private readonly Gauge _ircConnected;
    private readonly Gauge _openAlerts;
    private readonly AlertBatcher _batcher;
    private readonly PagingEngine _engine;
    private readonly Counter _commits;
    private readonly Counter _committed;
    private readonly Counter _passes;
    private readonly Counter _passSeconds;
    private readonly Counter _writerSeconds;
    private readonly SemaphoreSlim _collect = new(1, 1);
    // Acks are observed into the histogram once each, in id order; at start every ack on file is observed once.
    private long _lastAckId;
    // Alerts are counted the same way: a scrape counts only rows after the last one counted, so it does not get
    // slower as the table grows (a GROUP BY over every alert took 160 ms at 450,000 rows). Ids only grow, and a
    // read sees every row below the highest id it sees (one writer), so nothing is counted twice or missed.
    private long _lastAlertId;

    /// <summary>One row of any of the counting queries below: each fills the columns it names.</summary>
    internal sealed class MetricRow
    {
        public string? Level { get; set; }
        public string? Source { get; set; }
        public string? Channel { get; set; }
        public string? Outcome { get; set; }
        public string? State { get; set; }
        public long N { get; set; }
        public long MaxId { get; set; }
        public long Id { get; set; }
        public long At { get; set; }
        public long? Started { get; set; }
    }

    internal const string NewAlertCountsSql = "SELECT level, source, COUNT(*) AS n, MAX(id) AS max_id FROM alerts WHERE id > @last GROUP BY level, source";

    // handled_at IS NOT NULL: whether a keyed alert is a repeat is known once it is handled, and the partial index
    // of open keyed alerts (which this count reads instead of the table) holds only handled ones.
    internal const string OpenKeyedAlertsSql =
        "SELECT COUNT(*) FROM alerts WHERE dedup_key IS NOT NULL AND handled_at IS NOT NULL AND resolved_at IS NULL AND duplicate_of IS NULL";

    public LarsbotMetrics(Database db, IChannel irc, TimeProvider time, AlertBatcher batcher, PagingEngine engine)
    {
        _db = db;
        _batcher = batcher;
        _engine = engine;
        _irc = irc;
        _time = time;
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        _alerts = f.CreateCounter("larsbot_alerts_total", "Alerts accepted, by level and intake (repeats included).", "level", "source");
        _pages = f.CreateCounter("larsbot_page_attempts_total", "Tries at sending a page, by provider channel and outcome.", "channel", "result");
        _deliveries = f.CreateCounter("larsbot_deliveries_total",
            "Pages the provider reported on after accepting them, by channel and reported state (delivered, undelivered, failed, busy, no-answer, ...).",
            "channel", "state");
        _ackLatency = f.CreateHistogram("larsbot_ack_latency_seconds", "From the start of a countdown to the ack that stopped it.",
            new HistogramConfiguration { Buckets = AckBuckets });
        _countdowns = f.CreateGauge("larsbot_countdowns", "Open escalations by state (counting, paged, escalated).", "state");
        _ackMode = f.CreateGauge("larsbot_ack_mode", "1 while ack mode is on.");
        _ircConnected = f.CreateGauge("larsbot_irc_connected", "1 while the bot is joined to its IRC channel.");
        _openAlerts = f.CreateGauge("larsbot_alerts_open", "Keyed alerts not yet resolved.");
        // Since this process started (these two are not in the database): committed ÷ commits is the group-commit
        // batch size, passes ÷ alerts how well the engine's MinPassGap gathers arrivals.
        _commits = f.CreateCounter("larsbot_intake_commits_total", "Intake transactions committed since start.");
        _committed = f.CreateCounter("larsbot_intake_committed_alerts_total", "Alerts in those transactions.");
        _passes = f.CreateCounter("larsbot_engine_passes_total", "Paging engine passes since start.");
        _passSeconds = f.CreateCounter("larsbot_engine_pass_seconds_total", "Time spent in paging engine passes since start.");
        _writerSeconds = f.CreateCounter("larsbot_engine_writer_seconds_total",
            "Time the engine's passes held the database writer since start (intake commits wait meanwhile).");
    }

    public CollectorRegistry Registry { get; }

    public async Task WriteAsync(Stream output, CancellationToken ct)
    {
        await _collect.WaitAsync(ct);
        try
        {
            await RefreshAsync();
            await Registry.CollectAndExportAsTextAsync(output, ct);
        }
        finally
        {
            _collect.Release();
        }
    }

    private async Task RefreshAsync()
    {
        var now = UnixMs.From(_time.GetUtcNow());
        await _db.ReadAsync(async c =>
        {
            var counted = _lastAlertId;
            foreach (var r in await c.QueryAsync<MetricRow>(NewAlertCountsSql, new { last = _lastAlertId }))
            {
                _alerts.WithLabels(r.Level!, r.Source!).Inc(r.N);
                counted = Math.Max(counted, r.MaxId);
            }
            _lastAlertId = counted;
            foreach (var r in await c.QueryAsync<MetricRow>(
                         "SELECT p.channel, COALESCE(a.outcome, 'in_flight') AS outcome, COUNT(*) AS n FROM page_attempts a JOIN pages p ON p.id = a.page_id GROUP BY 1, 2"))
                _pages.WithLabels(r.Channel!, r.Outcome!).IncTo(r.N);
            // Reports are kept as they came (append-only), so a page counts once per state it reached.
            foreach (var r in await c.QueryAsync<MetricRow>(
                         "SELECT p.channel, e.state, COUNT(DISTINCT e.page_id) AS n FROM delivery_events e JOIN pages p ON p.id = e.page_id GROUP BY 1, 2"))
                _deliveries.WithLabels(r.Channel!, r.State!).IncTo(r.N);
            foreach (var state in new[] { "counting", "paged", "escalated" }) _countdowns.WithLabels(state).Set(0);
            foreach (var r in await c.QueryAsync<MetricRow>(
                         "SELECT state, COUNT(*) AS n FROM countdowns WHERE state IN ('counting','paged','escalated') GROUP BY state"))
                _countdowns.WithLabels(r.State!).Set(r.N);
            _ackMode.Set(await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM ack_modes WHERE ended_at IS NULL AND ends_at > @now", new { now }) > 0 ? 1 : 0);
            _openAlerts.Set(await c.ExecuteScalarAsync<long>(OpenKeyedAlertsSql));
            foreach (var r in await c.QueryAsync<MetricRow>(
                         "SELECT a.id, a.at, (SELECT MIN(started_at) FROM countdowns WHERE ack_id = a.id) AS started FROM acks a WHERE a.id > @last ORDER BY a.id",
                         new { last = _lastAckId }))
            {
                if (r.Started is { } s) _ackLatency.Observe(Math.Max(0, (r.At - s) / 1000.0));
                _lastAckId = r.Id;
            }
            return 0;
        });
        _ircConnected.Set(_irc.IsConnected ? 1 : 0);
        var (commits, rows) = _batcher.Stats;
        _commits.IncTo(commits);
        _committed.IncTo(rows);
        _passes.IncTo(_engine.Passes);
        _passSeconds.IncTo(_engine.PassSeconds);
        _writerSeconds.IncTo(_engine.WriterSeconds);
    }
}

internal static class MetricsEndpoint
{
    public static IServiceCollection AddMetricsEndpoint(this IServiceCollection services)
    {
        services.AddSingleton<LarsbotMetrics>();
        return services;
    }

    /// <summary>Behind the intake gate like everything else: loopback or an allowed network, or a Bearer token.</summary>
    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", async (HttpContext http, LarsbotMetrics metrics, IntakeGate gate) =>
        {
            var remote = http.Connection.RemoteIpAddress;
            if (gate.CheckNetwork(remote) is { } denied) return Results.Json(new MetricsError(denied), MetricsJson.Web.MetricsError, statusCode: 403);
            var (token, malformed) = HttpAuth.Bearer(http.Request);
            if (malformed) return Results.Json(new MetricsError("Authorization must be 'Bearer <token>'"), MetricsJson.Web.MetricsError, statusCode: 401);
            var auth = gate.Authenticate(remote, token);
            if (!auth.Ok) return Results.Json(new MetricsError(auth.Reason), MetricsJson.Web.MetricsError, statusCode: auth.Status);
            using var buffer = new MemoryStream();
            await metrics.WriteAsync(buffer, http.RequestAborted);
            return Results.Bytes(buffer.ToArray(), "text/plain; version=0.0.4; charset=utf-8");
        });
        return app;
    }
}
