using Larsbot.Setup;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Larsbot.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>The SQLite file (Database:Path), migrated at first use, and its WAL checkpointer.</summary>
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<StorageOptions>(config.GetSection("Database"));
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            Database db;
            try
            {
                db = o.Provider.Trim().ToLowerInvariant() switch
                {
                    "sqlite" or "" => new Database(o.Path, o.Synchronous)
                    {
                        WriterCheckpointPages = o.CheckpointEvery > TimeSpan.Zero ? Math.Max(1000, o.WriterCheckpointPages) : 1000,
                    },
                    "postgres" or "postgresql" => string.IsNullOrWhiteSpace(o.ConnectionString)
                        ? throw new ArgumentException("Database:Provider=postgres needs Database:ConnectionString (Host=...;Database=larsbot;Username=...)")
                        : Database.Postgres(o.ConnectionString),
                    _ => throw new ArgumentException($"Database:Provider must be sqlite or postgres, not '{o.Provider}'"),
                };
            }
            catch (ArgumentException e)
            {
                throw new StartupException(e.Message);
            }
            try
            {
                // One bot per SQLite file, refused before a second one migrates anything.
                if (o.HoldInstanceLock) db.InstanceLock = SoleInstanceLock.Take(db);
                db.Migrate();
            }
            catch (StartupException)
            {
                db.Dispose();
                throw;
            }
            catch (Exception e) when (Database.IsDatabaseFault(e) || e is UnauthorizedAccessException)
            {
                var which = db.IsPostgres ? $"Database:ConnectionString ({db.Description})" : $"Database:Path {db.Path}";
                db.Dispose();
                throw new StartupException($"{which}: cannot open or migrate it: {e.Message}");
            }
            return db;
        });
        services.AddHostedService<WalCheckpointer>();
        return services;
    }
}
