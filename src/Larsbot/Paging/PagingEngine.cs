using System.Data;
using System.Globalization;
using Dapper;
using Larsbot.Duty;
using Larsbot.Irc;
using Larsbot.Roster;
using Larsbot.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Paging;

/// <summary>
/// Decides what is due and writes it down. Every step reads the rows, changes them in one transaction, and only
/// then speaks in the channel, so a restart at any point re-derives the same state from the file: a countdown
/// resumes where it was, a page that was due is in the outbox, and nothing is decided twice.
/// All entry points take one gate, so an ack and a page can never interleave.
/// </summary>
public sealed partial class PagingEngine : IDisposable
{
    private readonly Database _db;
    private readonly PreparedReader _reader;
    private readonly TeamRoster _roster;
    private readonly IChannel _channel;
    private readonly TimeProvider _time;
    private readonly PagingOptions _options;
    private readonly ILogger<PagingEngine> _log;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _lastLoopAtMs;
    private long _passes;
    // When IRC was last seen unreachable (Unix ms; 0 = connected). Starts "down" because the bot has not joined yet:
    // the IrcDownGrace covers the first connect.
    private long _ircDownSinceMs;
    private int _everJoined;
    // Storm grouping (in memory: channel lines are not durable, the alerts' rows are). Group -> host -> count.
    private readonly Dictionary<string, Dictionary<string, int>> _storm = [];
    private readonly List<string> _stormLines = []; // the first few lines as they would have been said alone
    private long _stormFlushAtMs;
    private long _stormQuietAtMs;
    // Set by a pass that closed a countdown (receipts to cancel, follow-ups to send), so the outbox looks at once.
    private bool _outboxNudge;

    public PagingEngine(Database db, TeamRoster roster, IChannel channel, TimeProvider time,
        IOptions<PagingOptions> options, ILogger<PagingEngine> log)
    {
        _db = db;
        _reader = new PreparedReader(db);
        _roster = roster;
        _channel = channel;
        _time = time;
        _options = options.Value;
        _log = log;
        _ircDownSinceMs = UnixMs.From(time.GetUtcNow());
        channel.Joined += OnJoinedAsync;
        channel.Disconnected += () =>
        {
            Interlocked.CompareExchange(ref _ircDownSinceMs, UnixMs.From(_time.GetUtcNow()), 0);
            Wake.Set();
            return Task.CompletedTask;
        };
    }

    /// <summary>Wakes the outbox sender when new pages were written.</summary>
    public Signal OutboxWake { get; } = new();

    /// <summary>Wakes this engine's loop when something arrived (an alert was stored).</summary>
    public Signal Wake { get; } = new();

    /// <summary>Passes finished since start: with <see cref="PagingOptions.MinPassGap"/>, far fewer than alerts in a burst.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>When the engine last finished a pass (for /health: a stuck engine is an outage).</summary>
    public DateTimeOffset? LastLoopAt => Interlocked.Read(ref _lastLoopAtMs) is var ms and > 0 ? UnixMs.To(ms) : null;

    public PagingOptions Options => _options;

    /// <summary>Closes the engine's own read connection (the host disposes the engine at shutdown).</summary>
    public void Dispose() => _reader.Dispose();

    /// <summary>Does everything that is due now. Returns when the engine next needs to look (null: only on a wake).</summary>
    public async Task<DateTimeOffset?> RunDueAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var now = _time.GetUtcNow();
            var ircDown = IrcDown(now);
            var said = new List<string>();
            // Read once per pass, before taking the writer: intake commits go on meanwhile (WAL). What this read
            // relies on (handled_at, duplicate_of, resolved_at, last_seen_at) is written only by this engine, whose
            // passes never overlap, so it still holds in the write below; alerts stored in between wait for the next pass.
            var window = (long)_options.DedupWindow.TotalMilliseconds;
            var freshRead = _reader.Read(FreshAlertsSql, ["$window"], cmd => cmd.Rows<AlertRow>(window));
            var (pagesWritten, topicChanged, next) = await _db.WriteAsync(async (c, tx) =>
            {
                var topic = await ExpireAckModeAsync(c, tx, now, said);
                // Repeats, then silenced ones, are taken out before the rest are announced.
                var fresh = freshRead;
                if (fresh.Count > 0)
                {
                    fresh = await HandleRepeatsAsync(c, tx, now, said, fresh);
                    fresh = await HandleSilencedAsync(c, tx, now, said, fresh);
                    await HandleNewAlertsAsync(c, tx, now, said, ircDown, fresh);
                }
                await HandleAlertEventsAsync(c, tx, now, said);
                FlushStorm(now, said, force: false);
                var pages = await AdvanceCountdownsAsync(c, tx, now, said, ircDown);
                var nextWake = await NextWakeAsync(c, tx, now);
                return (pages, topic, nextWake);
            }, ct);

            Say(said);
            if (topicChanged) await PublishTopicAsync();
            if (pagesWritten || _outboxNudge) OutboxWake.Set();
            _outboxNudge = false;
            Interlocked.Exchange(ref _lastLoopAtMs, UnixMs.From(now));
            Interlocked.Increment(ref _passes);
            return next;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>`lars duty take`: the speaker is on duty from now on.</summary>
    public async Task TakeDutyAsync(string nick, Person person, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var now = _time.GetUtcNow();
            var previous = await _db.WriteAsync(async (c, tx) =>
            {
                var current = await CurrentDutyAsync(c, tx);
                if (current?.Id != person.Id)
                    await DutyStore.RecordAsync(c, tx, now, person.Id, nick, "take");
                return current;
            }, ct);
            var local = TimeZoneInfo.ConvertTime(now, person.TimeZone);
            Say([previous?.Id == person.Id
                ? $"duty: {person.Name} ({nick}) is already on duty"
                : $"duty: {person.Name} ({nick}) is now on duty" + (previous is null ? "" : $", taking over from {previous.Name}") +
                  $" ({local.ToString("ddd HH:mm", CultureInfo.InvariantCulture)} in {person.TimeZoneId})"]);
            await PublishTopicAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sets the topic from the rows: current duty and whether ack mode is on.</summary>
    public async Task PublishTopicAsync()
    {
        var (duty, ackMode) = await _db.ReadAsync(async c =>
        {
            var d = await CurrentDutyAsync(c, null);
            var active = await c.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM ack_modes WHERE ended_at IS NULL AND ends_at > @now", new { now = UnixMs.From(_time.GetUtcNow()) });
            return (d, active > 0);
        });
        _channel.SetTopic(TopicComposer.Compose(duty, ackMode));
    }

    private async Task<bool> ExpireAckModeAsync(IDbConnection c, IDbTransaction tx, DateTimeOffset now, List<string> said)
    {
        // The first alert id of the periods ending now (NULL: none ends now). Periods from before migration 009 have
        // no mark: every alert is looked at once.
        var nowMs = UnixMs.From(now);
        var after = _db.Statement(tx, "SELECT MIN(COALESCE(alerts_after, 0)) FROM ack_modes WHERE ended_at IS NULL AND ends_at <= $now", "$now")
            .Long(nowMs);
        if (after is null) return false;
        _db.Statement(tx, "UPDATE ack_modes SET ended_at = ends_at WHERE ended_at IS NULL AND ends_at <= $now", "$now").Run(nowMs);
        if (!await ReopenStillFiringAsync(c, tx, now, said, after.Value))
            said.Add("ack mode over: back to normal mode, urgent alerts page again");
        return true;
    }

    private Task<bool> AckModeActiveAsync(IDbConnection c, IDbTransaction tx) =>
        Task.FromResult(_db.Statement(tx, "SELECT COUNT(*) FROM ack_modes WHERE ended_at IS NULL").Long() > 0);

    /// <summary>
    /// True when IRC has been unreachable for longer than the grace: nobody can ack, so a countdown would only delay
    /// the page. Also notices a lost connection the client did not report.
    /// </summary>
    private bool IrcDown(DateTimeOffset now)
    {
        if (_channel.IsConnected)
        {
            return false;
        }
        Interlocked.CompareExchange(ref _ircDownSinceMs, UnixMs.From(now), 0);
        return now - UnixMs.To(Interlocked.Read(ref _ircDownSinceMs)) >= _options.IrcDownGrace;
    }

    /// <summary>On every (re)join: restore the topic, and after an outage say what happened while we were away.</summary>
    private async Task OnJoinedAsync()
    {
        var since = Interlocked.Exchange(ref _ircDownSinceMs, 0);
        var first = Interlocked.Exchange(ref _everJoined, 1) == 0;
        try
        {
            await PublishTopicAsync();
            if (!first && since != 0) _channel.Say(await AbsenceReportAsync(UnixMs.To(since), _time.GetUtcNow()));
        }
        catch (Exception e)
        {
            _log.LogError(e, "Could not report the IRC outage");
        }
        Wake.Set();
    }

    /// <summary>"back on IRC after 1m 5s away: 3 alerts meanwhile (2 urgent: 'db1: disk full' +1 more); pages sent to brong, robn".</summary>
    public async Task<string> AbsenceReportAsync(DateTimeOffset since, DateTimeOffset now)
    {
        return await _db.ReadAsync(async c =>
        {
            var alerts = (await c.QueryAsync<AlertRow>("SELECT * FROM alerts WHERE received_at >= @since ORDER BY id",
                new { since = UnixMs.From(since) })).ToList();
            var paged = (await c.QueryAsync<string>(
                "SELECT DISTINCT person_id FROM pages WHERE created_at >= @since ORDER BY person_id", new { since = UnixMs.From(since) })).ToList();
            var text = $"back on IRC after {Duration(now - since)} away: ";
            if (alerts.Count == 0 && paged.Count == 0) return text + "nothing arrived meanwhile";
            var urgent = alerts.Where(a => a.Level == "urgent").ToList();
            text += $"{alerts.Count} alert(s) meanwhile";
            if (urgent.Count > 0) text += $" ({urgent.Count} urgent: '{Summary(urgent)}')";
            text += paged.Count > 0 ? $"; paged {string.Join(", ", paged)} (nobody could ack here)" : "; nobody was paged";
            return text;
        });
    }

    /// <summary>
    /// A pass holds the writer, and intake commits wait for it: a storm's backlog is taken in slices this size, each
    /// pass a few milliseconds, rather than in one long pass.
    /// </summary>
    internal const int MaxAlertsPerPass = 256;

    private const string UnhandledAlertSql = "SELECT MIN(id) FROM alerts WHERE handled_at IS NULL";

    private async Task HandleNewAlertsAsync(IDbConnection c, IDbTransaction tx, DateTimeOffset now, List<string> said, bool ircDown, List<AlertRow> fresh)
    {
        if (fresh.Count == 0) return;
        var ackMode = await AckModeActiveAsync(c, tx);
        var nowMs = UnixMs.From(now);
        var announce = new List<(string Group, string Host, string Line)>();
        // Looked up once per pass, not per alert: in a storm a pass handles hundreds of alerts while holding the
        // write gate that intake commits wait for.
        var open = _db.Statement(tx, "SELECT * FROM countdowns WHERE state IN ('counting','paged') ORDER BY id DESC LIMIT 1")
            .Rows<CountdownRow>().SingleOrDefault();
        var mark = _db.Statement(tx, "UPDATE alerts SET handled_at = $now, disposition = $disposition, countdown_id = $countdownId WHERE id = $id",
            "$now", "$disposition", "$countdownId", "$id");

        foreach (var a in fresh)
        {
            string disposition;
            long? countdownId = null;
            switch (a.Level)
            {
                case "info":
                    disposition = "recorded";
                    break;
                case "irc":
                    disposition = "announced";
                    announce.Add(("irc", a.Host, $"irc {a.Host} - {a.Message}"));
                    break;
                default:
                    if (ackMode)
                    {
                        disposition = "ack_mode";
                        announce.Add(("URGENT (ack mode, not paging)", a.Host, $"URGENT {a.Host} - {a.Message} (ack mode, not paging)"));
                        break;
                    }
                    if (open is null)
                    {
                        var duty = await CurrentDutyAsync(c, tx);
                        // With IRC down nobody can ack: no countdown, the page goes out in this same pass.
                        countdownId = await c.ExecuteScalarAsync<long>(
                            "INSERT INTO countdowns(started_at, page_at, state, duty_person) VALUES (@s, @p, 'counting', @d) RETURNING id",
                            new { s = nowMs, p = UnixMs.From(ircDown ? now : now + _options.Countdown), d = duty?.Id }, tx);
                        disposition = "countdown";
                        open = new CountdownRow { Id = countdownId.Value, State = "counting", StartedAt = nowMs };
                        announce.Add(("URGENT", a.Host, $"URGENT {a.Host} - {a.Message}" + (ircDown ? " (IRC was unreachable: paged at once)" : "")));
                    }
                    else
                    {
                        countdownId = open.Id;
                        disposition = "joined";
                        announce.Add(("URGENT", a.Host, open.State == "counting"
                            ? $"URGENT {a.Host} - {a.Message}"
                            : $"URGENT {a.Host} - {a.Message} (joins open page #{open.Id}: everybody paged in {Duration(UnixMs.To(open.EscalateAt!.Value) - now)} unless acked)"));
                    }
                    break;
            }
            mark.Run(nowMs, disposition, countdownId, a.Id);
        }
        Announce(announce, now, said);
    }

    /// <summary>
    /// A few alerts get a line each. A storm (more than StormThreshold at once, or more while one is going on) is
    /// counted per host and said as one grouped line per kind every StormFlushEvery, so 10,000 alerts from 500 hosts
    /// stay a handful of readable lines that never trip the server's flood limit.
    /// </summary>
    private void Announce(List<(string Group, string Host, string Line)> announce, DateTimeOffset now, List<string> said)
    {
        if (announce.Count == 0) return;
        var nowMs = UnixMs.From(now);
        var inStorm = _storm.Count > 0 || nowMs < _stormQuietAtMs;
        if (!inStorm && announce.Count <= _options.StormThreshold)
        {
            said.AddRange(announce.Select(a => a.Line));
            return;
        }
        if (_storm.Count == 0) _stormFlushAtMs = nowMs + (long)_options.StormFlushEvery.TotalMilliseconds;
        _stormQuietAtMs = nowMs + (long)_options.StormQuietAfter.TotalMilliseconds;
        foreach (var (group, host, line) in announce)
        {
            if (_stormLines.Count <= _options.StormThreshold) _stormLines.Add(line);
            if (!_storm.TryGetValue(group, out var hosts)) _storm[group] = hosts = [];
            hosts[host] = hosts.GetValueOrDefault(host) + 1;
        }
    }

    /// <summary>"URGENT 37 alerts from 12 hosts: gateway2 (5), db1 (3), ... (+9 more hosts)", one line per kind.</summary>
    private void FlushStorm(DateTimeOffset now, List<string> said, bool force)
    {
        if (_storm.Count == 0 || (!force && UnixMs.From(now) < _stormFlushAtMs)) return;
        if (_storm.Values.Sum(h => h.Values.Sum()) <= _options.StormThreshold)
        {
            // The tail of a storm: a few alerts read better as themselves than as counts.
            said.AddRange(_stormLines);
            _storm.Clear();
            _stormLines.Clear();
            return;
        }
        foreach (var (group, hosts) in _storm.OrderBy(g => g.Key == "URGENT" ? 0 : 1))
        {
            var total = hosts.Values.Sum();
            var kind = group.StartsWith("URGENT") ? "URGENT" : group;
            var suffix = group.Length > kind.Length ? group[kind.Length..] : "";
            var top = hosts.OrderByDescending(h => h.Value).ThenBy(h => h.Key, StringComparer.Ordinal).ToList();
            var line = $"{kind} {total} alerts from {hosts.Count} hosts{suffix}:";
            var shown = 0;
            foreach (var (host, n) in top)
            {
                var part = $" {host} ({n}),";
                if (line.Length + part.Length > 300) break;
                line += part;
                shown++;
            }
            line = line.TrimEnd(',') + (shown < top.Count ? $" (+{top.Count - shown} more hosts)" : "");
            said.Add(line);
        }
        _storm.Clear();
        _stormLines.Clear();
    }

    private async Task<bool> AdvanceCountdownsAsync(IDbConnection c, IDbTransaction tx, DateTimeOffset now, List<string> said, bool ircDown)
    {
        var wrote = false;
        var nowMs = UnixMs.From(now);
        var open = _db.Statement(tx, "SELECT * FROM countdowns WHERE state IN ('counting','paged') ORDER BY id").Rows<CountdownRow>();
        foreach (var cd in open)
        {
            // Only when a line or a page needs it: in a storm this pass runs for every arriving batch.
            Task<string> Summary() => SummaryOfAsync(c, tx, cd.Id).ContinueWith(t => t.Result.Summary, TaskScheduler.Default);
            if (cd.State == "counting" && (nowMs >= cd.PageAt || ircDown))
            {
                var summary = await Summary();
                if (nowMs < cd.PageAt)
                    said.Add($"LarsSMS: IRC has been unreachable for over {Duration(_options.IrcDownGrace)}, nobody can ack: paging now instead of in {Secs(UnixMs.To(cd.PageAt) - now)} secs");
                var duty = await CurrentDutyAsync(c, tx);
                if (duty is null)
                {
                    // Nobody holds duty: the first page goes to everybody, and there is nobody left to escalate to.
                    await WritePagesAsync(c, tx, cd.Id, "everyone", _roster.People, summary, now);
                    await c.ExecuteAsync("UPDATE countdowns SET state = 'escalated', paged_at = @now, escalated_at = @now WHERE id = @id",
                        new { now = nowMs, id = cd.Id }, tx);
                    said.Add($"LarsSMS: nobody on duty, paging everybody now ({string.Join(", ", _roster.People.Select(p => p.Label))}): '{IrcText.Quote(summary)}'");
                }
                else
                {
                    await WritePagesAsync(c, tx, cd.Id, "first", [duty], summary, now);
                    await c.ExecuteAsync("UPDATE countdowns SET state = 'paged', paged_at = @now, escalate_at = @esc WHERE id = @id",
                        new { now = nowMs, esc = UnixMs.From(now + _options.EscalateAfter), id = cd.Id }, tx);
                    said.Add($"LarsSMS: paging {duty.Label} now: '{IrcText.Quote(summary)}'. Everybody in {Duration(_options.EscalateAfter)} unless someone says 'lars ack'");
                }
                wrote = true;
            }
            else if (cd.State == "counting")
            {
                // Say only the latest tick that is due: after a restart the channel gets one line, not a backlog.
                var tickMs = (long)_options.TickEvery.TotalMilliseconds;
                var tick = (nowMs - cd.StartedAt) / tickMs;
                var tickAt = cd.StartedAt + tick * tickMs;
                if (tick > cd.LastTick && tickAt < cd.PageAt)
                {
                    var summary = await Summary();
                    var targets = await FirstPageTargetsAsync(c, tx);
                    var everybody = await CurrentDutyAsync(c, tx) is null;
                    said.Add($"LarsSMS: '{IrcText.Quote(summary)}' in {Secs(UnixMs.To(cd.PageAt) - UnixMs.To(tickAt))} secs to {Targets(targets, everybody)}");
                    await c.ExecuteAsync("UPDATE countdowns SET last_tick = @tick WHERE id = @id", new { tick, id = cd.Id }, tx);
                }
            }
            else if (cd.State == "paged" && nowMs >= cd.EscalateAt)
            {
                var summary = await Summary();
                await WritePagesAsync(c, tx, cd.Id, "everyone", _roster.People, $"{summary} (not acked in {Duration(_options.EscalateAfter)}: paging everybody)", now);
                await c.ExecuteAsync("UPDATE countdowns SET state = 'escalated', escalated_at = @now WHERE id = @id",
                    new { now = nowMs, id = cd.Id }, tx);
                said.Add($"LarsSMS: nobody acked in {Duration(_options.EscalateAfter)}, paging everybody ({string.Join(", ", _roster.People.Select(p => p.Label))}): '{IrcText.Quote(summary)}'");
                wrote = true;
            }
        }
        return wrote;
    }

    private static async Task WritePagesAsync(IDbConnection c, IDbTransaction tx, long countdownId, string stage,
        IEnumerable<Person> people, string summary, DateTimeOffset now)
    {
        var title = stage == "first" ? "Larsbot: URGENT" : "Larsbot: URGENT, nobody acked";
        var nowMs = UnixMs.From(now);
        foreach (var p in people)
        {
            // OR IGNORE: the UNIQUE key makes re-deciding the same page a no-op rather than a second page.
            const string insert = """
                INSERT OR IGNORE INTO pages(countdown_id, stage, person_id, channel, destination, title, body, created_at, state, next_attempt_at)
                VALUES (@countdownId, @stage, @person, @channel, @destination, @title, @body, @now, 'due', @now)
                """;
            if (p.Phone is not null)
                await c.ExecuteAsync(insert, new { countdownId, stage, person = p.Id, channel = "sms", destination = p.Phone, title, body = summary, now = nowMs }, tx);
            if (p.Pushover is not null)
                await c.ExecuteAsync(insert, new { countdownId, stage, person = p.Id, channel = "push", destination = p.Pushover, title, body = summary, now = nowMs }, tx);
            // The last resort rings too: a call wakes people a silenced phone's SMS would not.
            if (stage == "everyone" && p.Call && p.Phone is not null)
                await c.ExecuteAsync(insert, new { countdownId, stage, person = p.Id, channel = "call", destination = p.Phone, title, body = summary, now = nowMs }, tx);
        }
    }

    private async Task<DateTimeOffset?> NextWakeAsync(IDbConnection c, IDbTransaction tx, DateTimeOffset now)
    {
        var candidates = new List<long>();
        var tickMs = (long)_options.TickEvery.TotalMilliseconds;
        var downSince = Interlocked.Read(ref _ircDownSinceMs);
        foreach (var cd in _db.Statement(tx, "SELECT * FROM countdowns WHERE state IN ('counting','paged') ORDER BY id").Rows<CountdownRow>())
        {
            if (cd.State == "counting")
            {
                candidates.Add(Math.Min(cd.PageAt, cd.StartedAt + (cd.LastTick + 1) * tickMs));
                if (downSince != 0 && !_channel.IsConnected) candidates.Add(downSince + (long)_options.IrcDownGrace.TotalMilliseconds);
            }
            else if (cd.EscalateAt is { } e)
                candidates.Add(e);
        }
        if (_storm.Count > 0) candidates.Add(_stormFlushAtMs);
        if (_db.Statement(tx, "SELECT MIN(ends_at) FROM ack_modes WHERE ended_at IS NULL").Long() is { } ae) candidates.Add(ae);
        if (_db.Statement(tx, UnhandledAlertSql).Long() is not null) candidates.Add(UnixMs.From(now));
        if (_db.Statement(tx, "SELECT MIN(id) FROM alert_events WHERE handled_at IS NULL").Long() is not null)
            candidates.Add(UnixMs.From(now));
        return candidates.Count == 0 ? null : UnixMs.To(candidates.Min());
    }

    private async Task<Person?> CurrentDutyAsync(IDbConnection c, IDbTransaction? tx) =>
        _roster.FindById((await DutyStore.CurrentAsync(c, tx))?.PersonId);

    private async Task<IReadOnlyList<Person>> FirstPageTargetsAsync(IDbConnection c, IDbTransaction tx) =>
        await CurrentDutyAsync(c, tx) is { } duty ? [duty] : _roster.People;

    private sealed class CountdownSummary
    {
        public long Alerts { get; set; }
        public long Hosts { get; set; }
        public string? FirstHost { get; set; }
        public string? FirstMessage { get; set; }
    }

    /// <summary>
    /// The page's text from one aggregate query (a storm's countdown may hold thousands of alerts, and this runs on
    /// every tick): the first alert names it, the rest are counted.
    /// </summary>
    private static async Task<(int Count, string Summary)> SummaryOfAsync(IDbConnection c, IDbTransaction? tx, long countdownId)
    {
        // The same alerts as AlertsOfAsync: its own, plus those a stale ack reopened into it.
        const string members =
            "(countdown_id = @countdownId OR id IN (SELECT alert_id FROM countdown_reopens WHERE countdown_id = @countdownId))";
        const string sql =
            "SELECT COUNT(*) AS alerts, COUNT(DISTINCT host) AS hosts, " +
            "(SELECT host FROM alerts WHERE " + members + " ORDER BY id LIMIT 1) AS first_host, " +
            "(SELECT message FROM alerts WHERE " + members + " ORDER BY id LIMIT 1) AS first_message " +
            "FROM alerts WHERE " + members;
        var s = await c.QuerySingleAsync<CountdownSummary>(sql, new { countdownId }, tx);
        return ((int)s.Alerts, SummaryText(s.Alerts, s.Hosts, s.FirstHost, s.FirstMessage));
    }

    /// <summary>"gateway2: rblcheck: listed (+2 more)", or "(+9999 more from 500 hosts)" when more than one host.</summary>
    public static string SummaryText(long alerts, long hosts, string? firstHost, string? firstMessage)
    {
        if (alerts == 0) return "(no alerts)";
        var text = $"{firstHost}: {firstMessage}";
        if (alerts == 1) return text;
        return text + (hosts > 1 ? $" (+{alerts - 1} more from {hosts} hosts)" : $" (+{alerts - 1} more)");
    }

    private static async Task<List<AlertRow>> AlertsOfAsync(IDbConnection c, IDbTransaction? tx, long countdownId) =>
        (await c.QueryAsync<AlertRow>(
            "SELECT * FROM alerts WHERE countdown_id = @countdownId OR id IN (SELECT alert_id FROM countdown_reopens WHERE countdown_id = @countdownId) ORDER BY id",
            new { countdownId }, tx)).ToList();

    /// <summary>"gateway2: rblcheck: listed (+2 more)": the first alert names the page, the rest are counted.</summary>
    public static string Summary(IReadOnlyList<AlertRow> alerts) =>
        alerts.Count == 0 ? "(no alerts)" : SummaryText(alerts.Count, alerts.Select(a => a.Host).Distinct().Count(), alerts[0].Host, alerts[0].Message);

    private static string Targets(IReadOnlyList<Person> targets, bool everybody) =>
        everybody ? $"everybody ({string.Join(", ", targets.Select(p => p.Label))})" : targets[0].Label;

    public static string Secs(TimeSpan t)
    {
        var s = Math.Max(0, t.TotalSeconds);
        return Math.Abs(s - Math.Round(s)) < 0.05
            ? Math.Round(s).ToString(CultureInfo.InvariantCulture)
            : s.ToString("0.#", CultureInfo.InvariantCulture);
    }

    /// <summary>"30 minutes", "5 minutes", "90 secs", "1h 30m": what a tired human reads fastest.</summary>
    public static string Duration(TimeSpan t)
    {
        if (t < TimeSpan.Zero) t = TimeSpan.Zero;
        if (t.TotalSeconds < 120) return $"{Secs(t)} secs";
        if (t.TotalMinutes < 120 && t.Seconds == 0) return $"{(int)t.TotalMinutes} minutes";
        if (t.TotalMinutes < 120) return $"{(int)t.TotalMinutes}m {t.Seconds}s";
        return $"{(int)t.TotalHours}h {t.Minutes}m";
    }

    private sealed class ActiveAckMode
    {
        public long EndsAt { get; set; }
        public string Nick { get; set; } = "";
    }

    private void Say(IEnumerable<string> lines)
    {
        // One line each: the engine's lines quote alert text, which is stored whole but shown cut to fit. They go
        // ahead of chatter (command replies, reminders) waiting for the flood throttle.
        foreach (var l in lines) _channel.SayPaging(l);
    }
}
