using System.Data;
using Dapper;
using Larsbot.Duty;
using Larsbot.Outbox;
using Larsbot.Roster;
using Larsbot.Storage;

namespace Larsbot.Paging;

/// <summary>
/// The channel topic follows the rows: who is on duty and whether ack mode is on. A change is a topic row in the
/// outbox; the IRC client keeps the topic it was last given after every rejoin and when someone else changes it.
/// </summary>
internal sealed class TopicModule(TeamRoster roster) : IEngineModule
{
    public async Task UpdateAsync(Pass p)
    {
        if (await OutboxStore.SetTopicAsync(p.C, p.Tx, p.Now, await ComposeAsync(p.C, p.Tx, roster, p.Now))) p.Wrote();
    }

    /// <summary>The topic as the rows say it should be now.</summary>
    public static async Task<string> ComposeAsync(IDbConnection c, IDbTransaction? tx, TeamRoster roster, DateTimeOffset now)
    {
        var duty = await PagingStore.CurrentDutyAsync(c, tx, roster);
        var ackMode = await c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM ack_modes WHERE ended_at IS NULL AND ends_at > @now", new { now = UnixMs.From(now) }, tx) > 0;
        return TopicComposer.Compose(duty, ackMode);
    }
}
