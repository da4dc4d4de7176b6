namespace Larsbot.Tests.Support;

/// <summary>
/// A fresh database for one test: a SQLite file in a temp folder (removed with the folder when disposed), or, when the
/// run sets LARSBOT_TEST_DB=postgres (scripts/test.sh's second pass), a fresh database on the tests' own PostgreSQL
/// server (<see cref="PostgresServer.Shared"/>). The same tests then run on both providers; a test that is about one
/// provider only says so with [Trait("Provider", "sqlite")] and the PostgreSQL pass leaves it out.
/// </summary>
public sealed class TempDatabase : IDisposable
{
    /// <summary>True in the PostgreSQL pass of the test run.</summary>
    public static bool OnPostgres { get; } =
        string.Equals(Environment.GetEnvironmentVariable("LARSBOT_TEST_DB"), "postgres", StringComparison.OrdinalIgnoreCase);

    public TempDatabase() : this(OnPostgres)
    {
    }

    private TempDatabase(bool postgres)
    {
        Dir = Directory.CreateTempSubdirectory("larsbot-test-").FullName;
        Path = System.IO.Path.Combine(Dir, "larsbot.db");
        // Off the caller's context: xunit's has as many threads as cores, and a constructor blocking on work posted back
        // to it deadlocks once every one of them does (TempDatabaseTests).
        if (postgres) ConnectionString = Task.Run(PostgresServer.Shared.CreateDatabaseAsync).GetAwaiter().GetResult();
    }

    /// <summary>A SQLite file in either pass, for a test whose subject is the SQLite file itself (db copy's source).</summary>
    public static TempDatabase Sqlite() => new(postgres: false);

    /// <summary>A fresh PostgreSQL database in either pass (and its folder), dropped when disposed.</summary>
    public static TempDatabase Postgres() => new(postgres: true);

    public string Dir { get; }

    /// <summary>The SQLite file (unused in the PostgreSQL pass).</summary>
    public string Path { get; }

    /// <summary>In the PostgreSQL pass: this test's database.</summary>
    public string? ConnectionString { get; }

    /// <summary>The bot's Database:* settings for this database.</summary>
    public Dictionary<string, string?> Settings() => ConnectionString is { } cs
        ? new() { ["Database:Provider"] = "postgres", ["Database:ConnectionString"] = cs }
        : new() { ["Database:Path"] = Path };

    public Larsbot.Storage.Database Open()
    {
        Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;
        var db = ConnectionString is { } cs ? Larsbot.Storage.Database.Postgres(cs) : new Larsbot.Storage.Database(Path);
        db.Migrate();
        return db;
    }

    /// <summary>
    /// An open connection of the test's own to this database (no pool, so nothing holds the file or the database after
    /// it is disposed), for reading what a bot under test wrote, or staging rows before it starts. Plain SQL that both
    /// providers understand.
    /// </summary>
    public System.Data.Common.DbConnection Connect() => Connect(Path, ConnectionString);

    /// <summary><see cref="Connect()"/> for a bot's database: its SQLite file, or its PostgreSQL database when set.</summary>
    public static System.Data.Common.DbConnection Connect(string path, string? connectionString)
    {
        System.Data.Common.DbConnection c = connectionString is { } cs
            ? new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(cs) { Pooling = false }.ConnectionString)
            : new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        c.Open();
        return c;
    }

    /// <summary>One value (a count, a state) read through <see cref="Connect()"/>.</summary>
    public async Task<T> ScalarAsync<T>(string sql, object? param = null)
    {
        await using var c = Connect();
        return (await Dapper.SqlMapper.ExecuteScalarAsync<T>(c, sql, param))!;
    }

    /// <summary>Rows read through <see cref="Connect()"/>.</summary>
    public async Task<List<T>> QueryAsync<T>(string sql, object? param = null)
    {
        await using var c = Connect();
        return (await Dapper.SqlMapper.QueryAsync<T>(c, sql, param)).ToList();
    }

    /// <summary>A statement run through <see cref="Connect()"/>.</summary>
    public async Task<int> ExecuteAsync(string sql, object? param = null)
    {
        await using var c = Connect();
        return await Dapper.SqlMapper.ExecuteAsync(c, sql, param);
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
        if (ConnectionString is { } cs)
        {
            // FORCE ends whatever connections the test left open, so a long run never runs out of them.
            var name = new Npgsql.NpgsqlConnectionStringBuilder(cs).Database;
            using var c = new Npgsql.NpgsqlConnection(PostgresServer.Shared.ConnectionString());
            c.Open();
            using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", c);
            drop.ExecuteNonQuery();
        }
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
