namespace Larsbot.Setup;

/// <summary>
/// A hosted service only the leader runs: the paging engine, the outbox sender, the IRC connection, the monthly job
/// and the pollers of what was sent. With several instances on one PostgreSQL database, the host starts it when this
/// instance becomes the leader (Leadership/LeaderGate); with SQLite the one instance always leads.
/// </summary>
public interface ILeaderOnly;
