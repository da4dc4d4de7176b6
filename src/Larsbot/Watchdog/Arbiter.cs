using Larsbot.Notify;
using Larsbot.Roster;
using Microsoft.Extensions.Logging;

namespace Larsbot.Watchdog;

/// <summary>
/// The seed's arbitersmsd: runs on other machines, checks the bot's /health every minute, and when the bot has failed
/// twice in a row pages everybody directly through its own Twilio and Pushover, once per outage; when the bot is
/// healthy again it sends an all-clear. Sends that fail are retried on the next checks until they go out or the
/// provider refuses them for good.
/// </summary>
public sealed class Arbiter(ArbiterOptions options, TeamRoster roster, IEnumerable<INotifier> notifiers, HttpClient http,
    TimeProvider time, ILogger<Arbiter> log)
{
    private readonly Dictionary<string, INotifier> _notifiers = notifiers.ToDictionary(n => n.Channel);
    private readonly List<PageMessage> _pending = [];
    private int _failuresInRow;
    private DateTimeOffset? _outageSince;
    private bool _paged;
    private string _lastProblem = "";

    public Uri Target { get; } = HealthUri(options.Target ?? throw new ArgumentException("arbiter needs --target URL"));

    private int _checks;

    /// <summary>True while an outage has been declared (everybody paged) and the bot is not back.</summary>
    public bool InOutage => _paged;

    /// <summary>Checks completed so far (lets a test wait for "two more checks" instead of sleeping).</summary>
    public int Checks => Volatile.Read(ref _checks);

    public async Task RunAsync(CancellationToken ct)
    {
        log.LogInformation("Arbiter watching {Target} every {Every}", Target, options.Every);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await CheckOnceAsync(ct);
                await Task.Delay(options.Every, time, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
        }
    }

    /// <summary>One check: poll, decide, send (or retry) what is due.</summary>
    public async Task CheckOnceAsync(CancellationToken ct)
    {
        var (healthy, problem) = await ProbeAsync(ct);
        var now = time.GetUtcNow();
        if (healthy)
        {
            if (_paged)
            {
                var down = now - _outageSince!.Value;
                Queue($"larsbot all clear: {Target.Authority} is healthy again after {Format(down)} (arbiter {options.Name})", "Larsbot all clear");
                log.LogWarning("Bot healthy again after {Down}; all-clear sent", down);
            }
            _failuresInRow = 0;
            _outageSince = null;
            _paged = false;
        }
        else
        {
            _failuresInRow++;
            _outageSince ??= now;
            _lastProblem = problem;
            log.LogWarning("Bot check {N} failed: {Problem}", _failuresInRow, problem);
            if (!_paged && _failuresInRow >= options.FailuresBeforePage)
            {
                _paged = true;
                Queue($"LARSBOT DOWN: {Target.Authority} failed {_failuresInRow} checks since {_outageSince:HH:mm} UTC: {_lastProblem} (arbiter {options.Name})",
                    "LARSBOT DOWN");
            }
        }
        await SendPendingAsync(ct);
        Interlocked.Increment(ref _checks);
    }

    private async Task<(bool Healthy, string Problem)> ProbeAsync(CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(options.Timeout);
        try
        {
            using var response = await http.GetAsync(Target, cts.Token);
            if (response.IsSuccessStatusCode) return (true, "");
            var body = await response.Content.ReadAsStringAsync(cts.Token);
            return (false, $"health answered {(int)response.StatusCode}: {OneLine(body)}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (false, $"no answer within {Format(options.Timeout)}");
        }
        catch (HttpRequestException e)
        {
            return (false, $"unreachable ({OneLine(e.Message)})");
        }
    }

    private void Queue(string text, string title)
    {
        // The arbiter's own pages replace any not yet delivered: an all-clear makes a pending "down" moot.
        _pending.Clear();
        foreach (var p in roster.People)
        {
            if (p.Phone is not null) _pending.Add(new PageMessage(p.Id, p.Phone, title, text) { Channel = "sms" });
            if (p.Pushover is not null) _pending.Add(new PageMessage(p.Id, p.Pushover, title, text) { Channel = "push" });
        }
    }

    private async Task SendPendingAsync(CancellationToken ct)
    {
        foreach (var page in _pending.ToList())
        {
            if (!_notifiers.TryGetValue(page.Channel!, out var notifier)) continue;
            var result = await notifier.SendAsync(page, ct);
            if (result.Outcome == SendOutcome.Retry)
            {
                log.LogWarning("Arbiter {Channel} to {Person} failed ({Detail}); retrying at the next check", page.Channel, page.PersonId, result.Detail);
                continue;
            }
            if (result.Outcome == SendOutcome.GiveUp)
                log.LogError("Arbiter {Channel} to {Person} refused: {Detail}", page.Channel, page.PersonId, result.Detail);
            _pending.Remove(page);
        }
    }

    private static Uri HealthUri(string target)
    {
        var uri = new Uri(target.Contains("://") ? target : "http://" + target);
        return uri.AbsolutePath is "/" or "" ? new Uri(uri, "/health") : uri;
    }

    private static string OneLine(string s)
    {
        var flat = s.Replace('\r', ' ').Replace('\n', ' ');
        return flat.Length <= 200 ? flat : flat[..200] + "…";
    }

    private static string Format(TimeSpan t) => t.TotalSeconds < 120 ? $"{Math.Round(t.TotalSeconds)}s" : $"{(int)t.TotalMinutes}m";
}
