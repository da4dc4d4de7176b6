namespace Larsbot.Storage;

/// <summary>Bound from "Database".</summary>
public sealed class StorageOptions
{
    /// <summary>The SQLite file: the single source of truth for alerts, countdowns, pages, acks and duty.</summary>
    public string Path { get; set; } = "larsbot.db";

    /// <summary>NORMAL (crash-safe, the default) or FULL (power-safe: fsync before every 202).</summary>
    public string Synchronous { get; set; } = "NORMAL";
}
