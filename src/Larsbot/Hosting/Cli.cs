using Larsbot.Setup;
using System.CommandLine;
using System.CommandLine.Help;
using Larsbot.Ledger;
using Larsbot.Roster;
using Larsbot.Storage;
using Larsbot.Watchdog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Hosting;

/// <summary>
/// The command line. Every verb reads the same configuration as `run`, and takes configuration overrides after its
/// options as it always has (`--Irc:Port=6697`, `--Logging:LogLevel:Default Warning`, `--Irc__Port 6697`): they are a
/// hidden argument of each verb, handed to the host. Any other word or option is a usage error (exit 64).
/// </summary>
internal static class Cli
{
    public const int UsageError = 64; // EX_USAGE
    public const int ConfigError = 2;

    /// <summary>larsbot [run] | check | arbiter | payout | ledger verify | db copy.</summary>
    public static Command Commands()
    {
        var config = new Option<string?>("--config", "-c")
        {
            Description = "the JSON configuration file (default: larsbot.json in the working directory, if present)",
            HelpName = "FILE",
            Recursive = true,
        };
        var root = new Command("larsbot",
            "An on-call paging bot for teams that live in IRC. With no command, runs the bot (larsbot run).\n" +
            "Configuration: --config FILE, then LARSBOT_ environment variables (LARSBOT_Irc__Server), then section keys " +
            "on the command line (--Irc:Port=6697).")
        {
            config, new HelpOption(), new VersionOption(), Run(), Check(), Arbiter(), LedgerCommands.Payout(), LedgerCommands.Ledger(),
            DbCommands.Db(),
        };
        root.SetAction(RunAsync);
        return WithOverrides(root);
    }

    /// <summary>Parses and runs <paramref name="args"/>; the one place a configuration problem becomes exit 2.</summary>
    public static async Task<int> InvokeAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args is ["help", .. var about]) args = [.. about, "--help"]; // `larsbot help` predates --help
        // No @response files: a configuration value may start with @.
        var parse = Commands().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            var problems = parse.Errors.Select(e => e.Message.TrimEnd('.')).OrderBy(m => m.StartsWith("Required", StringComparison.Ordinal));
            await stderr.WriteLineAsync($"larsbot: {string.Join("; ", problems)}. Try: {FullName(parse.CommandResult.Command)} --help");
            return UsageError;
        }
        try
        {
            // The host and the arbiter handle SIGTERM and Ctrl+C themselves (graceful stop); the parser must not.
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null,
            });
        }
        catch (Exception e) when (e is StartupException or OptionsValidationException)
        {
            await stderr.WriteLineAsync($"larsbot: {e.Message}");
            return ConfigError;
        }
    }

    /// <summary>--config and the configuration overrides left on the command line, for LarsbotHost/ArbiterHost.Build.</summary>
    public static (string? ConfigFile, string[] ConfigArgs) HostArgs(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var overrides = command.Arguments.OfType<Argument<string[]>>().FirstOrDefault(a => a.Name == Overrides);
        return (parse.GetValue<string?>("--config"), overrides is null ? [] : ConfigArgs(parse.GetValue(overrides) ?? [], command, out _));
    }

    private static Command Run()
    {
        var run = new Command("run", "start the bot (the default command)");
        run.SetAction(RunAsync);
        return WithOverrides(run);
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken _)
    {
        var (configFile, configArgs) = HostArgs(parse);
        // One bot per SQLite file: a second one refuses while it is built (exit 2) instead of paging beside the first.
        var app = LarsbotHost.Build(configArgs, configFile,
            services: s => s.PostConfigure<StorageOptions>(o => o.HoldInstanceLock = true));
        LarsbotHost.ExitWhenTheLeadIsLost(app);
        var startup = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Larsbot.Startup");
        foreach (var warning in RosterWarnings.For(app.Services.GetRequiredService<TeamRoster>())) startup.LogWarning("{Warning}", warning);
        await app.RunAsync(); // disposes the host when it stops
        return 0;
    }

    private static Command Check()
    {
        var check = new Command("check", "validate the configuration and roster, print any warnings, and exit (2 on a problem)");
        check.SetAction(async (parse, _) =>
        {
            var (configFile, configArgs) = HostArgs(parse);
            await using var app = LarsbotHost.Build(configArgs, configFile);
            var roster = app.Services.GetRequiredService<TeamRoster>();
            var stdout = parse.InvocationConfiguration.Output;
            foreach (var warning in RosterWarnings.For(roster)) await stdout.WriteLineAsync($"warning: {warning}");
            await stdout.WriteLineAsync($"ok: configuration and roster valid ({roster.People.Count} people)");
            return 0;
        });
        return WithOverrides(check);
    }

    private static Command Arbiter()
    {
        var target = new Option<string?>("--target")
        {
            Description = "the bot's base URL, whose /health is checked (or Arbiter:Target)",
            HelpName = "URL",
        };
        var every = new Option<string?>("--every")
        {
            Description = "how often to check: 1m, 30s, 500ms or 00:01:00 (or Arbiter:Every; default 1m)",
            HelpName = "DURATION",
        };
        var arbiter = new Command("arbiter",
            "the watchdog, run on other machines: pages everybody on its own roster when the bot is down")
        {
            target, every,
        };
        arbiter.SetAction(async (parse, _) =>
        {
            var (configFile, configArgs) = HostArgs(parse);
            // ArbiterHost reads --target and --every from its configuration, as it always has.
            string[] args = [.. configArgs,
                .. parse.GetValue(target) is { } t ? ["--target", t] : Array.Empty<string>(),
                .. parse.GetValue(every) is { } e ? ["--every", e] : Array.Empty<string>()];
            var watchdog = ArbiterHost.Build(args, configFile, null, out var services);
            using var stop = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
            AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
            await watchdog.RunAsync(stop.Token);
            await services.DisposeAsync();
            return 0;
        });
        return WithOverrides(arbiter);
    }

    private const string Overrides = "configuration overrides";

    /// <summary>Gives <paramref name="command"/> the hidden argument that collects configuration overrides.</summary>
    internal static Command WithOverrides(Command command)
    {
        var overrides = new Argument<string[]>(Overrides) { Hidden = true, Arity = ArgumentArity.ZeroOrMore };
        overrides.Validators.Add(result =>
        {
            ConfigArgs([.. result.Tokens.Select(t => t.Value)], command, out var problem);
            if (problem is not null) result.AddError(problem);
        });
        command.Add(overrides);
        return command;
    }

    /// <summary>
    /// <paramref name="tokens"/> as the host's command-line configuration reads them (--Section:Key=value,
    /// --Section:Key value, Section:Key=value), with `__` in a key read as `:` as in LARSBOT_ variables; or, in
    /// <paramref name="problem"/>, why one of them is not a configuration override.
    /// </summary>
    private static string[] ConfigArgs(IReadOnlyList<string> tokens, Command command, out string? problem)
    {
        var args = new List<string>();
        problem = null;
        for (var i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            var dashes = t.StartsWith("--") ? 2 : 0;
            var eq = t.IndexOf('=');
            var key = eq >= 0 ? t[dashes..eq] : t[dashes..];
            var isKey = (key.Contains(':') || key.Contains("__")) && key.All(c => char.IsLetterOrDigit(c) || c is ':' or '_' or '.' or '-');
            if (isKey && eq >= 0)
            {
                args.Add(t[..dashes] + key.Replace("__", ":") + t[eq..]);
            }
            else if (isKey && dashes == 2 && i + 1 < tokens.Count)
            {
                args.Add("--" + key.Replace("__", ":"));
                args.Add(tokens[++i]);
            }
            else
            {
                problem = isKey && dashes == 2 ? $"configuration override '{t}' needs a value (--Section:Key=value)"
                    : t.StartsWith('-') ? $"unknown option '{t}' for '{FullName(command)}' (a configuration override names a section key, e.g. --Irc:Port=6697)"
                    : command.Parents.Any() ? $"unexpected argument '{t}' for '{FullName(command)}'"
                    : $"unknown command '{t}'";
                break;
            }
        }
        return [.. args];
    }

    private static string FullName(Command command) =>
        command.Parents.OfType<Command>().FirstOrDefault() is { } parent ? $"{FullName(parent)} {command.Name}" : command.Name;
}
