namespace Larsbot.Paging;

/// <summary>Bound from "Paging". Defaults are FastMail's: 30 s countdown, a line every 5 s, everybody after 5 min.</summary>
public sealed class PagingOptions
{
    public TimeSpan Countdown { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan TickEvery { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>From the first page to paging everybody, if nobody has acked.</summary>
    public TimeSpan EscalateAfter { get; set; } = TimeSpan.FromMinutes(5);
    public TimeSpan AckModeFor { get; set; } = TimeSpan.FromMinutes(30);
    // Retries (Paging:RetryFor, RetryMinDelay, RetryMaxDelay) are the outbox's: see Outbox/OutboxOptions.cs.
    /// <summary>
    /// IRC unreachable for longer than this means nobody can type `lars ack`: a countdown would only delay the page,
    /// so urgent alerts page at once. The grace covers the bot's own (re)connect, about a second.
    /// </summary>
    public TimeSpan IrcDownGrace { get; set; } = TimeSpan.FromSeconds(15);
    /// <summary>A page still failing after this long turns /health red (a single provider blip does not).</summary>
    public TimeSpan PageFailingUnhealthyAfter { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>More new alerts than this in one pass is a storm: they are announced as grouped counts, not one line each.</summary>
    public int StormThreshold { get; set; } = 5;
    /// <summary>During a storm, one grouped line per kind this often.</summary>
    public TimeSpan StormFlushEvery { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>A storm is over (lines per alert again) after this long without new alerts.</summary>
    public TimeSpan StormQuietAfter { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>
    /// An alert without a key repeats an open one when host and text are the same and the last one came at most this
    /// long ago (sliding: a check that fires every 5 minutes stays one alert). Keyed alerts repeat until resolved.
    /// </summary>
    public TimeSpan DedupWindow { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>
    /// At most one engine pass this often (wall-clock time, not the TimeProvider: it is about CPU, not about when
    /// things are due). A pass has a fixed cost (a transaction and a dozen queries) whatever it finds; without this,
    /// alerts arriving one at a time each paid for a pass of their own, which halved intake. At most this much is
    /// added to an alert's way to the channel, and nothing while alerts arrive further apart.
    /// </summary>
    public TimeSpan MinPassGap { get; set; } = TimeSpan.FromMilliseconds(5);
    /// <summary>
    /// During a storm (the last pass found more than <see cref="StormThreshold"/> new alerts) passes are spaced this far
    /// apart instead, so each takes more alerts at once: the channel hears a storm as grouped lines every
    /// <see cref="StormFlushEvery"/> anyway, and a pass's fixed cost was paid about 150 times a second (7-9% more
    /// alerts a second without it: docs/performance-notes.md). Work that falls due meanwhile (a countdown line, a page)
    /// is not held back for it, and an urgent alert's countdown counts from its arrival whatever pass reads it.
    /// </summary>
    public TimeSpan StormPassGap { get; set; } = TimeSpan.FromMilliseconds(20);
    /// <summary>
    /// When a page is acked or resolved, everyone who was paged for it gets one short follow-up on the channel that
    /// reached them, so the woken are not left wondering whether anyone has it.
    /// </summary>
    public bool TellPagedOnAck { get; set; } = true;

    public IEnumerable<string> Validate()
    {
        if (Countdown <= TimeSpan.Zero) yield return "Paging:Countdown must be more than zero";
        if (TickEvery <= TimeSpan.Zero) yield return "Paging:TickEvery must be more than zero";
        if (EscalateAfter <= TimeSpan.Zero) yield return "Paging:EscalateAfter must be more than zero";
        if (AckModeFor <= TimeSpan.Zero) yield return "Paging:AckModeFor must be more than zero";
        if (DedupWindow < TimeSpan.Zero) yield return "Paging:DedupWindow must not be negative";
        if (MinPassGap < TimeSpan.Zero || MinPassGap > TimeSpan.FromSeconds(1)) yield return "Paging:MinPassGap must be between 0 and 1 s";
        if (StormPassGap < TimeSpan.Zero || StormPassGap > TimeSpan.FromSeconds(1)) yield return "Paging:StormPassGap must be between 0 and 1 s";
        if (IrcDownGrace < TimeSpan.Zero) yield return "Paging:IrcDownGrace must not be negative";
    }
}
