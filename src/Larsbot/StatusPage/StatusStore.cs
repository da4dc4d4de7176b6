using Dapper;
using Larsbot.Duty;
using Larsbot.Roster;
using Larsbot.Storage;
using System.Data.Common;

namespace Larsbot.StatusPage;

/// <summary>Who holds duty, as the page shows it (contacts already masked when Irc:ShowContacts=false).</summary>
internal sealed record DutyView(Person Person, DateTimeOffset Since, DateTimeOffset LocalNow);

/// <summary>Ack mode in force: who acked, and when it ends.</summary>
internal sealed record AckModeView(string Nick, string PersonId, DateTimeOffset Started, DateTimeOffset EndsAt);

/// <summary>An escalation nobody has acked yet. <see cref="Deadline"/> is what the live countdown counts down to.</summary>
internal sealed record OpenPageView(long CountdownId, string State, DateTimeOffset? Deadline, string? DutyPerson, IReadOnlyList<AlertView> Alerts)
{
    /// <summary>Each page's last known state per person: the provider's delivery report, else the outbox state.</summary>
    public IReadOnlyList<PageFateView> Pages { get; init; } = [];
}

/// <summary>"sms brong delivered 03:11:07": one page of an open escalation and what became of it.</summary>
internal sealed record PageFateView(string Channel, string PersonId, string State, DateTimeOffset At);

/// <summary>One alert and what became of it; <see cref="AckedBy"/> is the nick that acked its page.</summary>
internal sealed record AlertView(long Id, DateTimeOffset ReceivedAt, string Host, string Level, string Message, string? Disposition,
    long? CountdownId, string? CountdownState, DateTimeOffset? PagedAt, DateTimeOffset? EscalatedAt, string? AckedBy, DateTimeOffset? AckedAt)
{
    /// <summary>One short phrase for the table: what a tired human wants to know about this alert.</summary>
    public string State => Disposition switch
    {
        null => "new",
        "recorded" => "recorded",
        "announced" => "announced",
        "ack_mode" => "announced (ack mode)",
        _ => CountdownState switch
        {
            "counting" => "counting down",
            "paged" => "paged",
            "escalated" => "everybody paged",
            "acked" when PagedAt is not null => $"paged, acked by {AckedBy}",
            "acked" => $"acked by {AckedBy}",
            _ => Disposition,
        },
    };
}

/// <summary>A row of the silences table (issue 6), shown generically: its columns are not ours to know.</summary>
internal sealed record SilenceView(IReadOnlyList<KeyValuePair<string, string>> Fields);

/// <summary>Everything the live part of the page shows, read at one instant.</summary>
internal sealed record StatusSnapshot(DateTimeOffset Now, DutyView? Duty, AckModeView? AckMode, IReadOnlyList<OpenPageView> Open,
    IReadOnlyList<AlertView> Recent, IReadOnlyList<SilenceView>? Silences);

/// <summary>
/// Read-only queries behind the status page. It never takes the engine's gate or the write gate: WAL lets these
/// reads run beside the engine, and a page refreshed every second must not slow down a page going out.
/// </summary>
internal sealed class StatusStore(Database db, TeamRoster roster, TimeProvider time)
{
    public const int RecentCount = 50;

    private const string AckModeSql = """
        SELECT a.nick, a.person_id, m.started_at, m.ends_at
        FROM ack_modes m JOIN acks a ON a.id = m.ack_id
        WHERE m.ended_at IS NULL AND m.ends_at > @now
        ORDER BY m.id DESC LIMIT 1
        """;

    private const string PagesSql = """
        SELECT channel, person_id, COALESCE(delivery_state, state) AS state, COALESCE(delivery_at, sent_at, created_at) AS at
        FROM pages WHERE countdown_id = @id AND stage <> 'followup' ORDER BY id
        """;

    private const string OpenSql = "SELECT id, state, page_at, escalate_at, duty_person FROM countdowns WHERE state IN ('counting','paged','escalated') ORDER BY id";

    // The alert, its escalation and the ack that ended it, newest first.
    private const string AlertsSql = """
        SELECT al.id, al.received_at, al.host, al.level, al.message, al.disposition, al.countdown_id,
               c.state AS countdown_state, c.paged_at, c.escalated_at, k.nick AS acked_by, k.at AS acked_at
        FROM alerts al
        LEFT JOIN countdowns c ON c.id = al.countdown_id
        LEFT JOIN acks k ON k.id = c.ack_id
        {0}
        ORDER BY al.id DESC LIMIT @limit
        """;

    public async Task<StatusSnapshot> ReadAsync()
    {
        var now = time.GetUtcNow();
        var nowMs = UnixMs.From(now);
        return await db.ReadAsync(async c =>
        {
            var dutyRow = await DutyStore.CurrentAsync(c);
            var person = roster.FindById(dutyRow?.PersonId);
            var duty = person is null ? null : new DutyView(person, UnixMs.To(dutyRow!.At), TimeZoneInfo.ConvertTime(now, person.TimeZone));

            var ack = await c.QuerySingleOrDefaultAsync<AckModeRow>(AckModeSql, new { now = nowMs });
            var ackMode = ack is null ? null : new AckModeView(ack.Nick, ack.PersonId, UnixMs.To(ack.StartedAt), UnixMs.To(ack.EndsAt));

            var open = new List<OpenPageView>();
            foreach (var cd in await c.QueryAsync<OpenRow>(OpenSql))
            {
                var alerts = (await c.QueryAsync<AlertRow>(string.Format(AlertsSql, "WHERE al.countdown_id = @id"), new { id = cd.Id, limit = 1000 }))
                    .Reverse().Select(ToView).ToList();
                var deadline = cd.State switch
                {
                    "counting" => UnixMs.To(cd.PageAt),
                    "paged" when cd.EscalateAt is { } e => UnixMs.To(e),
                    _ => (DateTimeOffset?)null,
                };
                var pages = (await c.QueryAsync<PageFateRow>(PagesSql, new { id = cd.Id }))
                    .Select(p => new PageFateView(p.Channel, p.PersonId, p.State, UnixMs.To(p.At))).ToList();
                open.Add(new OpenPageView(cd.Id, cd.State, deadline, cd.DutyPerson, alerts) { Pages = pages });
            }

            var recent = (await c.QueryAsync<AlertRow>(string.Format(AlertsSql, ""), new { limit = RecentCount })).Select(ToView).ToList();
            return new StatusSnapshot(now, duty, ackMode, open, recent, await SilencesAsync(c, nowMs));
        });
    }

    /// <summary>The silences still in force, newest first (at most 50); null (no section) when they cannot be read.</summary>
    private static async Task<IReadOnlyList<SilenceView>?> SilencesAsync(DbConnection c, long nowMs)
    {
        const string sql = "SELECT * FROM silences WHERE ended_at IS NULL AND (ends_at IS NULL OR ends_at > @now) ORDER BY id DESC LIMIT 50";
        try
        {
            var rows = await c.QueryAsync(sql, new { now = nowMs });
            return rows.Cast<IDictionary<string, object?>>()
                .Select(r => new SilenceView(r.Select(kv => new KeyValuePair<string, string>(kv.Key, Show(kv.Key, kv.Value))).ToList()))
                .ToList();
        }
        catch (DbException)
        {
            // A read that fails (a database without the table, or of another shape) must not take the page down.
            return null;
        }
    }

    /// <summary>Columns ending in _at (or named until) hold Unix ms, like every other time in this database.</summary>
    private static string Show(string column, object? value) => value switch
    {
        null => "",
        long ms when column.EndsWith("_at", StringComparison.Ordinal) || column == "until" =>
            UnixMs.To(ms).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    private static AlertView ToView(AlertRow r) => new(r.Id, UnixMs.To(r.ReceivedAt), r.Host, r.Level, r.Message, r.Disposition, r.CountdownId,
        r.CountdownState, r.PagedAt is { } p ? UnixMs.To(p) : null, r.EscalatedAt is { } e ? UnixMs.To(e) : null, r.AckedBy,
        r.AckedAt is { } a ? UnixMs.To(a) : null);

    internal sealed class PageFateRow
    {
        public string Channel { get; set; } = "";
        public string PersonId { get; set; } = "";
        public string State { get; set; } = "";
        public long At { get; set; }
    }

    internal sealed class AckModeRow
    {
        public string Nick { get; set; } = "";
        public string PersonId { get; set; } = "";
        public long StartedAt { get; set; }
        public long EndsAt { get; set; }
    }

    internal sealed class OpenRow
    {
        public long Id { get; set; }
        public string State { get; set; } = "";
        public long PageAt { get; set; }
        public long? EscalateAt { get; set; }
        public string? DutyPerson { get; set; }
    }

    internal sealed class AlertRow
    {
        public long Id { get; set; }
        public long ReceivedAt { get; set; }
        public string Host { get; set; } = "";
        public string Level { get; set; } = "";
        public string Message { get; set; } = "";
        public string? Disposition { get; set; }
        public long? CountdownId { get; set; }
        public string? CountdownState { get; set; }
        public long? PagedAt { get; set; }
        public long? EscalatedAt { get; set; }
        public string? AckedBy { get; set; }
        public long? AckedAt { get; set; }
    }
}
