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
                db = new Database(o.Path, o.Synchronous)
                {
                    WriterCheckpointPages = o.CheckpointEvery > TimeSpan.Zero ? Math.Max(1000, o.WriterCheckpointPages) : 1000,
                };
            }
            catch (ArgumentException e)
            {
                throw new StartupException(e.Message);
            }
            try
            {
                db.Migrate();
            }
            catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
            {
                throw new StartupException($"Database:Path {db.Path}: cannot open or migrate it: {e.Message}");
            }
            return db;
        });
        services.AddHostedService<WalCheckpointer>();
        return services;
    }
}
