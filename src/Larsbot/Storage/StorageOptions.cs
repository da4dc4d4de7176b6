namespace Larsbot.Storage;

/// <summary>Bound from "Database".</summary>
public sealed class StorageOptions
{
    /// <summary>The SQLite file: the single source of truth for alerts, countdowns, pages, acks and duty.</summary>
    public string Path { get; set; } = "larsbot.db";
}
