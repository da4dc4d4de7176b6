namespace Larsbot.Tests.Support;

/// <summary>A fresh SQLite file in a temp folder, removed with the folder when disposed.</summary>
public sealed class TempDatabase : IDisposable
{
    public TempDatabase()
    {
        Dir = Directory.CreateTempSubdirectory("larsbot-test-").FullName;
        Path = System.IO.Path.Combine(Dir, "larsbot.db");
    }

    public string Dir { get; }
    public string Path { get; }

    public Larsbot.Storage.Database Open()
    {
        Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;
        var db = new Larsbot.Storage.Database(Path);
        db.Migrate();
        return db;
    }

    /// <summary>Puts a roster person on duty from now, as `lars duty take` would, before the bot starts.</summary>
    public void SeedDuty(string personId)
    {
        using var db = Open();
        using var c = db.Open();
        Dapper.SqlMapper.Execute(c, "INSERT INTO duty_changes(at, person_id, by_nick, kind) VALUES (@at, @personId, @personId, 'take')",
            new { at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), personId });
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
