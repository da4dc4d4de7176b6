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
public sealed record IntakeResult(long? Id, string? Error, bool Transient = false, TimeSpan? RetryAfter = null)
{
    /// <summary>Refused by the per-host rate limit (HTTP 429): nothing stored, send it again after <see cref="RetryAfter"/>.</summary>
    public bool RateLimited => RetryAfter is not null;

    public bool Ok => Id is not null;
}

/// <summary>
/// Validates and stores an alert. Shared by every intake so HTTP and TCP accept exactly the same things. The answer
/// is given only after the row is committed, so "accepted" always means "on disk".
/// </summary>
public sealed class AlertIntake(Database db, AlertBatcher batcher, PagingEngine engine, TimeProvider time, ILogger<AlertIntake> log, HostRateLimiter? limiter = null)
{
    public static readonly string[] Levels = ["urgent", "irc", "info"];
    public const int MaxHostLength = 255;
    public const int MaxKeyLength = 255;

    public static string? Validate(AlertInput input, out string host, out string level, out string message)
    {
        host = input.Host?.Trim() ?? "";
        level = (input.Level?.Trim() is { Length: > 0 } l ? l : "urgent").ToLowerInvariant();
        message = input.Message ?? "";
        if (host.Length == 0) return "missing host";
        if (host.Length > MaxHostLength) return $"host longer than {MaxHostLength} characters";
        if (host.Any(ch => char.IsWhiteSpace(ch) || char.IsControl(ch))) return "host must not contain spaces or control characters";
        if (message.Trim().Length == 0) return "missing message";
        if (Array.IndexOf(Levels, level) < 0) return $"unknown level '{Shorten(level)}' (use urgent, irc or info)";
        if (input.Key is { Length: > MaxKeyLength }) return $"key longer than {MaxKeyLength} characters";
        return null;
    }

    public async Task<IntakeResult> AcceptAsync(AlertInput input, string source, CancellationToken ct = default)
    {
        var error = Validate(input, out var host, out var level, out var message);
        if (error is not null) return new IntakeResult(null, error);
        // Over the limit is refused, not stored: "accepted" keeps meaning "stored and handled like any other alert".
        if (limiter?.TryTake(host, level) is { } wait)
            return new IntakeResult(null, $"rate limited: host '{Shorten(host)}' sends too many alerts; retry in {wait.TotalSeconds:0} s", RetryAfter: wait);
        return await StoreAsync(host, level, message, source, ct, NullIfEmpty(input.Key));
    }

    /// <summary>
    /// Stores a resolve (or a tool's acknowledge) for the engine's next pass. Names the alert by key (and host, when
    /// given, so a token limited to some hosts cannot end others' alerts), or by host and text for unkeyed ones.
    /// </summary>
    public async Task<IntakeResult> RecordEventAsync(string kind, string? key, string? host, string? message, string source, CancellationToken ct = default)
    {
        key = NullIfEmpty(key?.Trim());
        host = NullIfEmpty(host?.Trim());
        message = NullIfEmpty(message);
        if (key is { Length: > MaxKeyLength }) return new IntakeResult(null, $"key longer than {MaxKeyLength} characters");
        if (key is null && (host is null || message is null)) return new IntakeResult(null, $"{kind} needs a key, or host and message");
        try
        {
            var id = await db.WriteAsync((c, tx) => c.ExecuteScalarAsync<long>(
                "INSERT INTO alert_events(received_at, source, kind, dedup_key, host, message) VALUES (@at, @source, @kind, @key, @host, @message) RETURNING id",
                new { at = UnixMs.From(time.GetUtcNow()), source, kind, key, host, message }, tx), ct);
            engine.Wake.Set();
            return new IntakeResult(id, null);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            log.LogError(e, "Could not store a {Kind} from {Source}", kind, source);
            return new IntakeResult(null, $"could not store the {kind} (database unavailable); try again", Transient: true);
        }
    }

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
        if (!alert.RecordedAtIntake) engine.Wake.Set();
        return new IntakeResult(id, null);
    }

    private static string Shorten(string s) => s.Length <= 20 ? s : s[..20] + "…";
}
