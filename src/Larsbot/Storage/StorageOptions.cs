namespace Larsbot.Storage;

/// <summary>Bound from "Database".</summary>
public sealed class StorageOptions
{
    /// <summary>sqlite (the default: one file, one instance) or postgres (several instances, one leader).</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>With Provider=postgres: an Npgsql connection string, Host=...;Database=larsbot;Username=...</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>The SQLite file: the single source of truth for alerts, countdowns, pages, acks and duty.</summary>
    public string Path { get; set; } = "larsbot.db";

    /// <summary>NORMAL (crash-safe, the default) or FULL (power-safe: fsync before every 202).</summary>
    public string Synchronous { get; set; } = "NORMAL";

    /// <summary>How often the WAL is copied back into the database file, off the commit path (0: SQLite's own way).</summary>
    public TimeSpan CheckpointEvery { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The writer checkpoints by itself past this many WAL pages (4 KiB each), inside a commit: 25-60 ms that intake
    /// waits for. SQLite starts the WAL over only when a write begins on a WAL copied to its end, which a steady stream
    /// of commits seldom allows, so under load the WAL grows whatever the checkpointer copies: at 6,000 new urgent
    /// alerts a second (about 5 pages each) 10,000 pages were reached every 1-2 s, and those commits were the engine
    /// path's p99 (c=1: 14-19 ms with 10,000, 3.7-4.6 ms with 50,000; docs/performance-notes.md, the ninth session).
    /// The WAL file can grow to about 200 MB before this fallback copies it.
    /// </summary>
    public int WriterCheckpointPages { get; set; } = 50_000;

    /// <summary>
    /// Set by `larsbot run` (never from configuration: internal, so the binder skips it): a SQLite database holds
    /// <see cref="SoleInstanceLock"/> from before its migrations until it is disposed.
    /// </summary>
    internal bool HoldInstanceLock { get; set; }
}
