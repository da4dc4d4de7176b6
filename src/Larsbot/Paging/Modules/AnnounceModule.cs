using Dapper;
using Larsbot.Roster;
using Larsbot.Storage;
using static Larsbot.Text.Wording;

namespace Larsbot.Paging;

/// <summary>
/// Decides what each new alert means and says it: info is recorded; irc is announced; urgent starts a countdown (or
/// joins the open one), or is only shown in ack mode. With IRC unreachable nobody can ack, so a new countdown pages
/// at once. A few alerts get a line each; a storm is said as grouped lines (<see cref="StormModule"/>).
/// </summary>
internal sealed class AnnounceModule(TeamRoster roster, PagingOptions options, StormModule storm) : IEngineModule
{
    public async Task UpdateAsync(Pass p)
    {
        var (c, tx, now, nowMs) = (p.C, p.Tx, p.Now, p.NowMs);
        // A line is written only when it is said: in a storm they are counted instead, and a pass takes hundreds.
        var announce = new List<(AlertRow Alert, string Disposition, string? Line)>();
        if (p.Fresh.Count > 0)
        {
            var ackMode = PagingStore.AckModeActive(p);
            // Looked up once per pass, not per alert: in a storm a pass handles hundreds of alerts while holding the
            // write gate that intake commits wait for.
            var open = PagingStore.NewestOpenCountdown(p, options);
            var handled = new List<PagingStore.Handled>(p.Fresh.Count);
            // The alerts this pass puts into a countdown (one at most: the open one, or the one the first urgent starts).
            long joinedFrom = 0, joinedTo = 0;
            var joined = 0;
            foreach (var a in p.Fresh)
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
                        announce.Add((a, disposition, null));
                        break;
                    default:
                        if (ackMode)
                        {
                            disposition = "ack_mode";
                            announce.Add((a, disposition, null));
                            break;
                        }
                        if (open is null)
                        {
                            var duty = await PagingStore.CurrentDutyAsync(c, tx, roster);
                            // With IRC down nobody can ack: no countdown, the page goes out in this same pass.
                            // Counted from the alert's arrival: the pass that reads it runs a few milliseconds later.
                            var startedMs = CountdownModule.OnScheduleOr(a.ReceivedAt, nowMs);
                            var started = UnixMs.To(startedMs);
                            countdownId = await PagingStore.NewCountdownAsync(c, tx, started, p.ChatDown ? now : started + options.Countdown, duty?.Id);
                            disposition = "countdown";
                            open = new CountdownRow { Id = countdownId.Value, State = CountdownState.Counting, StartedAt = startedMs };
                            announce.Add((a, disposition, p.ChatDown ? LineOf(a, disposition) + " (IRC was unreachable: paged at once)" : null));
                        }
                        else
                        {
                            countdownId = open.Id;
                            disposition = "joined";
                            announce.Add((a, disposition, open.State switch
                            {
                                CountdownState.Counting => null,
                                CountdownState.Paged => $"URGENT {a.Host} - {a.Message} (joins open page #{open.Id}: everybody paged in {Duration(UnixMs.To(open.EscalateAt!.Value) - now)} unless acked)",
                                _ => $"URGENT {a.Host} - {a.Message} (joins open page #{open.Id}: everybody was paged, nobody has acked yet)",
                            }));
                        }
                        break;
                }
                handled.Add(new(a.Id, disposition, countdownId));
                if (countdownId is null) continue;
                if (joined++ == 0) joinedFrom = a.Id;
                joinedTo = a.Id;
            }
            PagingStore.MarkHandled(p, handled); // before the count: it reads the joined alerts' countdown
            if (joined > 0) PagingStore.CountJoined(p, open!.Id, joinedFrom, joinedTo, joined);
            p.Fresh = [];
        }
        if (announce.Count > 0 && !await storm.CountAsync(p, announce.Count, announce.Min(x => x.Alert.Id), announce.Max(x => x.Alert.Id)))
            foreach (var (a, disposition, line) in announce) await p.SayAsync(line ?? LineOf(a, disposition));
    }

    /// <summary>The line an alert gets when it is said by itself.</summary>
    public static string LineOf(AlertRow a, string disposition) => disposition switch
    {
        "announced" => $"irc {a.Host} - {a.Message}",
        "ack_mode" => $"URGENT {a.Host} - {a.Message} (ack mode, not paging)",
        _ => $"URGENT {a.Host} - {a.Message}",
    };
}
