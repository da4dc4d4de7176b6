using Dapper;
using Larsbot.Storage;

namespace Larsbot.Tests.Support;

/// <summary>
/// Stands in for the outbox sender's IRC notifier in harnesses without an IRC server: takes the channel lines and
/// topic changes written so far, in order, and marks them said, as a sender that keeps up would. Expiry is the real
/// sender's business and is tested there.
/// </summary>
public static class OutboxLines
{
    public static List<(string Stage, string Body)> Drain(Database db)
    {
        using var c = db.Open();
        using var tx = c.BeginTransaction();
        var rows = c.Query<(long Id, string Stage, string Body)>(
            "SELECT id, stage, body FROM outbox WHERE channel = 'irc' AND state = 'due' ORDER BY id", transaction: tx).ToList();
        if (rows.Count > 0)
            c.Execute("UPDATE outbox SET state = 'sent' WHERE channel = 'irc' AND state = 'due' AND id <= @last", new { last = rows[^1].Id }, tx);
        tx.Commit();
        return rows.Select(r => (r.Stage, r.Body)).ToList();
    }

    /// <summary>Makes <paramref name="channel"/> hear what <paramref name="db"/>'s outbox says, whenever it is read.</summary>
    public static void Feed(RecordingChannel channel, Database db, Larsbot.Outbox.OutboxStore outbox)
    {
        channel.Source = () => Drain(db);
        channel.SourceChanged = ct => outbox.Wake.WaitAsync(null, TimeProvider.System, ct);
    }
}
