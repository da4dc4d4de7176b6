using Dapper;
using Larsbot.Paging;
using Larsbot.Storage;
using Microsoft.Extensions.Logging;

namespace Larsbot.Intake;

public sealed record AlertInput(string? Host, string? Level, string? Message)
{
    /// <summary>The caller's name for "the same problem" (POST /alerts `key`): repeats count up, a resolve names it.</summary>
    public string? Key { get; init; }

    /// <summary>null or "trigger" (an alert), "resolve" (ends the open alert with this key, or host and text).</summary>
    public string? Action { get; init; }
}

/// <summary>The outcome of handing in one alert: an id (stored) or a one-line reason (nothing stored).</summary>
public sealed record IntakeResult(long? Id, string? Error, bool Transient = false, TimeSpan? RetryAfter = null, bool Forbidden = false)
{
    /// <summary>The HTTP status for a refusal: 429, 403, 503 or 400.</summary>
    public int Status => RateLimited ? 429 : Forbidden ? 403 : Transient ? 503 : 400;

    /// <summary>Refused by the per-host rate limit (HTTP 429): nothing stored, send it again after <see cref="RetryAfter"/>.</summary>
    public bool RateLimited => RetryAfter is not null;

    public bool Ok => Id is not null;
}

/// <summary>
/// Validates and stores an alert. Shared by every intake so HTTP and TCP accept exactly the same things. The answer
/// is given only after the row is committed, so "accepted" always means "on disk".
/// </summary>
public sealed class AlertIntake(Database db, AlertBatcher batcher, EngineWake engineWake, TimeProvider time, ILogger<AlertIntake> log, HostRateLimiter? limiter = null,
    OpenKeys? openKeys = null)
{
    public static readonly string[] Levels = ["urgent", "irc", "info"];
    public const int MaxHostLength = 255;
    public const int MaxKeyLength = 255;

    /// <summary>A key is an identifier, and PostgreSQL text cannot hold a NUL: refused on either database.</summary>
    private const string KeyWithNul = "key must not contain a NUL character";

    private const string BadHostCharacters = "host must not contain spaces or control characters";

    private static bool HostCharactersOk(string host) => !host.Any(ch => char.IsWhiteSpace(ch) || char.IsControl(ch));

    public static string? Validate(AlertInput input, out string host, out string level, out string message)
    {
        host = input.Host?.Trim() ?? "";
        level = (input.Level?.Trim() is { Length: > 0 } l ? l : "urgent").ToLowerInvariant();
        message = input.Message ?? "";
        if (host.Length == 0) return "missing host";
        if (host.Length > MaxHostLength) return $"host longer than {MaxHostLength} characters";
        if (!HostCharactersOk(host)) return BadHostCharacters;
        if (message.Trim().Length == 0) return "missing message";
        if (Array.IndexOf(Levels, level) < 0) return $"unknown level '{Shorten(level)}' (use urgent, irc or info)";
        if (input.Key is { Length: > MaxKeyLength }) return $"key longer than {MaxKeyLength} characters";
        if (input.Key?.Contains('\0') == true) return KeyWithNul;
        return null;
    }

    /// <param name="caller">Who sends it: limited per caller, and a token limited to some hosts may not use a key
    /// that names open alerts of other hosts (a repeat would count up, or re-page, someone else's alert).</param>
    public async Task<IntakeResult> AcceptAsync(AlertInput input, string source, CancellationToken ct = default, IntakeCaller? caller = null)
    {
        var error = Validate(input, out var host, out var level, out var message);
        if (error is not null) return new IntakeResult(null, error);
        // Over the limit is refused, not stored: "accepted" keeps meaning "stored and handled like any other alert".
        if (limiter?.TryTake(host, level, caller?.Key) is { } over) return RateLimited(host, over);
        var key = NullIfEmpty(input.Key);
        if (caller?.Hosts is not null && key is not null && ForeignHost(caller, await OpenHostsOfKeyAsync(key)) is { } refused)
            return refused;
        return await StoreAsync(host, level, message, source, ct, key);
    }

    /// <summary>
    /// Stores a resolve (or a tool's acknowledge) for the engine's next pass. Names the alert by key (and host, when
    /// given, so a token limited to some hosts cannot end others' alerts), or by host and text for unkeyed ones.
    /// A caller limited to some hosts may name by key only alerts of its hosts: the open alerts with that key are
    /// looked up here, any of another host is 403, and the event is stored once per host they are on, so an alert of
    /// another host that arrives with the same key before the engine's pass is not touched either.
    /// </summary>
    public async Task<IntakeResult> RecordEventAsync(string kind, string? key, string? host, string? message, string source,
        CancellationToken ct = default, IntakeCaller? caller = null)
    {
        key = NullIfEmpty(key?.Trim());
        host = NullIfEmpty(host?.Trim());
        // Stored as an alert's text is (a NUL shown as \0, AlertBatcher), so a resolve by text matches it.
        message = NullIfEmpty(message)?.Replace("\0", "\\0");
        if (key is { Length: > MaxKeyLength }) return new IntakeResult(null, $"key longer than {MaxKeyLength} characters");
        if (key?.Contains('\0') == true) return new IntakeResult(null, KeyWithNul);
        // No alert has such a host (refused above), and PostgreSQL text cannot hold a NUL.
        if (host is not null && !HostCharactersOk(host)) return new IntakeResult(null, BadHostCharacters);
        if (key is null && (host is null || message is null)) return new IntakeResult(null, $"{kind} needs a key, or host and message");
        if (limiter?.TryTake(host, kind, caller?.Key) is { } over) return RateLimited(host, over);
        List<string?> hosts = [host];
        if (caller?.Hosts is not null)
        {
            if (host is not null && !caller.MaySendFor(host))
                return new IntakeResult(null, $"this token may not {kind} alerts of host '{Shorten(host)}'", Forbidden: true);
            if (key is not null)
            {
                var open = await OpenHostsOfKeyAsync(key);
                if (ForeignHost(caller, open, kind) is { } refused) return refused;
                // Nothing open under this key (of the named host): there is nothing this caller may end.
                if (host is null) hosts = [.. open.Distinct(StringComparer.Ordinal)];
                if (hosts.Count == 0) return new IntakeResult(0, null);
            }
        }
        try
        {
            long id = 0;
            var at = UnixMs.From(time.GetUtcNow());
            await db.WriteAsync(async (c, tx) =>
            {
                foreach (var h in hosts)
                    id = await c.ExecuteScalarAsync<long>(
                        "INSERT INTO alert_events(received_at, source, kind, dedup_key, host, message) VALUES (@at, @source, @kind, @key, @host, @message) RETURNING id",
                        new { at, source, kind, key, host = h, message }, tx);
            }, ct);
            engineWake.Set();
            return new IntakeResult(id, null);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or TimeoutException)
        {
            log.LogError(e, "Could not store a {Kind} from {Source}", kind, source);
            return new IntakeResult(null, $"could not store the {kind} (database unavailable); try again", Transient: true);
        }
    }

    internal static IntakeResult RateLimited(string? host, RateRefusal over) =>
        new(null, over.ByCaller || host is null
                ? $"rate limited: this sender sends too many alerts; retry in {over.Wait.TotalSeconds:0} s"
                : $"rate limited: host '{Shorten(host)}' sends too many alerts; retry in {over.Wait.TotalSeconds:0} s",
            RetryAfter: over.Wait);

    /// <summary>The engine's handled mark, the batcher's (the key-scope check reads unhandled alerts above it).</summary>
    internal HandledMark Mark => batcher.Mark;

    // Two halves: handled open alerts (on PostgreSQL from alerts_open_by_key), and the few not handled yet (above the engine's mark).
    private const string HandledOpenHostsSql =
        "SELECT host FROM alerts WHERE dedup_key = @key AND handled_at IS NOT NULL AND resolved_at IS NULL AND duplicate_of IS NULL";
    private const string UnhandledHostsSql = "SELECT host FROM alerts WHERE id > @after AND handled_at IS NULL AND dedup_key = @key";
    private const string OpenHostOfSql = "SELECT host FROM alerts WHERE id = @id AND dedup_key = @key AND resolved_at IS NULL AND duplicate_of IS NULL";

    /// <summary>Hosts of the open alerts (handled or not yet) that carry this key.</summary>
    public Task<List<string>> OpenHostsOfKeyAsync(string key) => db.ReadAsync(async c =>
    {
        if (openKeys is null || db.IsPostgres)
            return (await c.QueryAsync<string>(HandledOpenHostsSql + " UNION " + UnhandledHostsSql, new { key, after = Mark.Id })).ToList();
        // SQLite: the handled ones are the engine's open keys. Read after the unhandled half: an alert handled since is
        // in them by then (a pass adds it before it commits).
        var hosts = (await c.QueryAsync<string>(UnhandledHostsSql, new { key, after = Mark.Id })).ToHashSet();
        if (openKeys.Candidates(key) is not { } candidates) // not loaded (a pass failed): the file, by the open-keyed index
            hosts.UnionWith(await c.QueryAsync<string>(HandledOpenHostsSql, new { key }));
        else
            foreach (var id in candidates)
                if (await c.QuerySingleOrDefaultAsync<string>(OpenHostOfSql, new { id, key }) is { } host) hosts.Add(host);
        return hosts.ToList();
    });

    /// <summary>403 when <paramref name="caller"/> is limited to some hosts and <paramref name="key"/> names open alerts of another.</summary>
    public async Task<IntakeResult?> CheckKeyScopeAsync(IntakeCaller caller, string key, string kind) =>
        caller.Hosts is null ? null : ForeignHost(caller, await OpenHostsOfKeyAsync(key), kind);

    private static IntakeResult? ForeignHost(IntakeCaller caller, List<string> hosts, string kind = "send") =>
        hosts.FirstOrDefault(h => !caller.MaySendFor(h)) is { } foreign
            ? new IntakeResult(null, $"this token may not {(kind == "send" ? "use a key of" : kind)} alerts of host '{Shorten(foreign)}'", Forbidden: true)
            : null;

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>Stores an already validated alert, past the rate limit (the flood report itself uses this).</summary>
    internal async Task<IntakeResult> StoreAsync(string host, string level, string message, string source, CancellationToken ct, string? key = null)
    {
        long id;
        var alert = new NewAlert(UnixMs.From(time.GetUtcNow()), source, host, level, message, key);
        try
        {
            id = await batcher.InsertAsync(alert).WaitAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Never say "accepted" for something not stored: the sender must keep it and retry.
            log.LogError(e, "Could not store an alert from {Source}", source);
            return new IntakeResult(null, "could not store the alert (database unavailable); try again", Transient: true);
        }
        if (!alert.RecordedAtIntake) engineWake.Set();
        return new IntakeResult(id, null);
    }

    private static string Shorten(string s) => s.Length <= 20 ? s : s[..20] + "…";
}
