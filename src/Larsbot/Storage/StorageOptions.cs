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

    /// <summary>The writer checkpoints by itself past this many WAL pages (4 KiB each): only if the checkpointer stalls.</summary>
    public int WriterCheckpointPages { get; set; } = 10_000;
}
