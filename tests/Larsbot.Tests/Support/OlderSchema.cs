using Dapper;
using Larsbot.Storage;
using Microsoft.Data.Sqlite;

namespace Larsbot.Tests.Support;

/// <summary>
/// A SQLite file as an older release left it: its migrations applied up to, not including, one version. A test then
/// writes the rows that release would have, and runs <see cref="Database.Migrate"/> to see the migration keep them.
/// </summary>
internal static class OlderSchema
{
    private const string Folder = ".Storage.Migrations.";

    /// <summary>Applies the SQLite migrations before <paramref name="version"/> ("014") to <paramref name="c"/>, foreign keys on.</summary>
    public static async Task ApplyBeforeAsync(SqliteConnection c, string version)
    {
        var asm = typeof(Database).Assembly;
        await c.ExecuteAsync("PRAGMA foreign_keys=ON; CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (datetime('now')))");
        foreach (var res in asm.GetManifestResourceNames().Where(n => n.Contains(Folder + "0", StringComparison.Ordinal)).Order())
        {
            var file = res[(res.IndexOf(Folder, StringComparison.Ordinal) + Folder.Length)..];
            if (string.CompareOrdinal(file, version) >= 0) continue;
            using var reader = new StreamReader(asm.GetManifestResourceStream(res)!);
            await c.ExecuteAsync(await reader.ReadToEndAsync());
            await c.ExecuteAsync("INSERT INTO schema_migrations(version, name) VALUES (@v, @file)", new { v = long.Parse(file[..3]), file });
        }
    }
}
