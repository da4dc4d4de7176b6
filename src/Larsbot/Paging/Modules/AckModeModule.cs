using Larsbot.Storage;

namespace Larsbot.Paging;

/// <summary>
/// Ends ack mode when its time is up. What is still firing then pages again (<see cref="StillFiring"/>); otherwise
/// the channel hears that urgent alerts page again. The topic follows in <see cref="TopicModule"/>.
/// </summary>
internal sealed class AckModeModule(StillFiring stillFiring) : IEngineModule
{
    public async Task UpdateAsync(Pass p)
    {
        // The first alert id of the periods ending now (NULL: none ends now). Periods from before migration 009 have
        // no mark: every alert is looked at once.
        var after = p.Db.Statement(p.Tx, "SELECT MIN(COALESCE(alerts_after, 0)) FROM ack_modes WHERE ended_at IS NULL AND ends_at <= $now", "$now")
            .Long(p.NowMs);
        if (after is not null)
        {
            p.Db.Statement(p.Tx, "UPDATE ack_modes SET ended_at = ends_at WHERE ended_at IS NULL AND ends_at <= $now", "$now").Run(p.NowMs);
            if (!await stillFiring.ReopenStillFiringAsync(p, after.Value))
                await p.SayAsync("ack mode over: back to normal mode, urgent alerts page again");
        }
        if (p.Db.Statement(p.Tx, "SELECT MIN(ends_at) FROM ack_modes WHERE ended_at IS NULL").Long() is { } ends) p.WakeAt(ends);
    }
}
