using System.CommandLine;
using System.Net.Sockets;
using Larsbot.Setup;
using Larsbot.Storage;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Larsbot.Hosting;

/// <summary>`larsbot db copy --to postgres [--connection-string CS]`: the SQLite file's history into PostgreSQL.</summary>
internal static class DbCommands
{
    private const string Example = "\"Host=db1;Database=larsbot;Username=larsbot\"";

    internal static Command Db()
    {
        var to = new Option<string>("--to")
        {
            Description = "what to copy into: postgres (the only kind)",
            HelpName = "postgres",
            Required = true,
        };
        to.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } kind && kind != "postgres")
                result.AddError($"--to '{kind}': db copy copies into postgres only");
        });
        var connectionString = new Option<string?>("--connection-string")
        {
            Description = $"the PostgreSQL database, e.g. {Example} (default: Database:ConnectionString from the " +
                "configuration, which keeps a password off the command line)",
            HelpName = "CS",
        };
        var copy = new Command("copy",
            "copy every table of the SQLite file (Database:Path) into an empty PostgreSQL database, ids and all, in one " +
            "transaction, and print the rows per table. Stop the bot first. Refuses (exit 1, nothing written) a database " +
            "that already holds rows; never deletes anything")
        {
            to, connectionString,
        };
        copy.SetAction(async (parse, ct) =>
        {
            var (configFile, configArgs) = Cli.HostArgs(parse);
            var config = new ConfigurationManager();
            ConfigurationLayers.Add(config, configArgs, configFile, overrides: null);
            var options = config.GetSection("Database").Get<StorageOptions>() ?? new StorageOptions();
            var given = parse.GetValue(connectionString);
            var from = given is null ? "Database:ConnectionString" : "--connection-string";
            return await CopyAsync(options.Path, given ?? options.ConnectionString, from,
                parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, ct);
        });
        return new Command("db", "the bot's database: copy a SQLite file's history into PostgreSQL") { Cli.WithOverrides(copy) };
    }

    /// <summary>The copy and its exit code: 0 done, 1 refused or failed (nothing written), 64 a bad connection string.</summary>
    internal static async Task<int> CopyAsync(string sqlitePath, string connectionString, string from, TextWriter stdout, TextWriter stderr,
        CancellationToken ct = default)
    {
        if (Usage(connectionString, from) is { } problem)
        {
            await stderr.WriteLineAsync($"larsbot: {problem}. Try: larsbot db copy --help");
            return Cli.UsageError;
        }
        var path = Path.GetFullPath(sqlitePath);
        if (!File.Exists(path))
        {
            await stderr.WriteLineAsync($"larsbot: Database:Path {path}: no such file, nothing to copy");
            return 1;
        }

        using var source = new Database(path);
        using var target = Database.Postgres(connectionString);
        try
        {
            source.Migrate(); // as every verb does: the file then has the columns the PostgreSQL schema has
        }
        catch (Exception e) when (Database.IsDatabaseFault(e) || e is UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"larsbot: Database:Path {path}: cannot open or migrate it: {e.Message}");
            return 1;
        }
        try
        {
            target.Migrate();
        }
        catch (Exception e) when (Failed(e))
        {
            // Description, never the connection string: it may hold the password.
            await stderr.WriteLineAsync($"larsbot: cannot reach or migrate {target.Description}: {e.Message}");
            return 1;
        }

        IReadOnlyList<DatabaseCopy.TableCopied> copied;
        try
        {
            copied = await DatabaseCopy.CopyAsync(source, target, ct);
        }
        catch (DatabaseCopy.Refused e)
        {
            await stderr.WriteLineAsync($"larsbot: {e.Message}");
            return 1;
        }
        catch (Exception e) when (Failed(e))
        {
            await stderr.WriteLineAsync($"larsbot: copying to {target.Description} failed, nothing was written: {e.Message}");
            return 1;
        }

        var width = copied.Select(t => t.Table.Length).DefaultIfEmpty(0).Max();
        foreach (var t in copied) await stdout.WriteLineAsync($"{t.Table.PadRight(width)} {t.Rows,9}");
        await stdout.WriteLineAsync($"copied {copied.Sum(t => t.Rows)} rows from {path} to {target.Description}");
        return 0;
    }

    private static string? Usage(string connectionString, string from)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            return $"db copy needs the PostgreSQL database: --connection-string {Example}, or Database:ConnectionString in the configuration";
        NpgsqlConnectionStringBuilder b;
        try
        {
            b = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            return $"{from} is not a PostgreSQL connection string ({e.Message.TrimEnd('.')}), e.g. {Example}";
        }
        return string.IsNullOrWhiteSpace(b.Host) ? $"{from} needs Host=..., e.g. {Example}" : null;
    }

    /// <summary>PostgreSQL down, refusing us, or failing a statement (a foreign key the SQLite rows break, say).</summary>
    private static bool Failed(Exception e) => Database.IsDatabaseFault(e) || e is SocketException;
}
