using Larsbot.Hosting;
using Larsbot.Ledger;
using Larsbot.Roster;

// larsbot run [--config FILE]   the daemon
// larsbot check [--config FILE] validate configuration and roster, then exit
// larsbot arbiter --target URL [--every 1m]   the watchdog (runs on other machines)
// larsbot payout / larsbot ledger verify   see LedgerCli
var verb = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "run";
var rest = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args;
string? configFile = null;
var passThrough = new List<string>();
for (var i = 0; i < rest.Length; i++)
{
    if (rest[i] is "--config" or "-c" && i + 1 < rest.Length) configFile = rest[++i];
    else passThrough.Add(rest[i]);
}

switch (verb)
{
    case "run":
    case "check":
        try
        {
            var app = LarsbotHost.Build([.. passThrough], configFile);
            var roster = app.Services.GetRequiredService<TeamRoster>();
            if (verb == "check")
            {
                foreach (var warning in RosterWarnings.For(roster)) Console.WriteLine($"warning: {warning}");
                Console.WriteLine($"ok: configuration and roster valid ({roster.People.Count} people)");
                return 0;
            }
            var startup = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Larsbot.Startup");
            foreach (var warning in RosterWarnings.For(roster)) startup.LogWarning("{Warning}", warning);
            await app.RunAsync();
            return 0;
        }
        catch (StartupException e)
        {
            Console.Error.WriteLine($"larsbot: {e.Message}");
            return 2;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException e)
        {
            Console.Error.WriteLine($"larsbot: {e.Message}");
            return 2;
        }
    case "arbiter":
        try
        {
            var arbiter = Larsbot.Watchdog.ArbiterHost.Build([.. passThrough], configFile, null, out var services);
            using var stop = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
            AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
            await arbiter.RunAsync(stop.Token);
            await services.DisposeAsync();
            return 0;
        }
        catch (StartupException e)
        {
            Console.Error.WriteLine($"larsbot: {e.Message}");
            return 2;
        }
    case "payout":
    case "ledger" when passThrough is ["verify", ..]:
        try
        {
            var (options, configArgs) = LedgerCli.SplitOptions(verb == "ledger" ? passThrough[1..] : passThrough, "--month", "--format", "--out");
            var app = LarsbotHost.Build(configArgs, configFile);
            return verb == "payout"
                ? await LedgerCli.PayoutAsync(app.Services, options, Console.Out, Console.Error)
                : await LedgerCli.VerifyAsync(app.Services, Console.Out);
        }
        catch (StartupException e)
        {
            Console.Error.WriteLine($"larsbot: {e.Message}");
            return 2;
        }
    case "help" or "--help" or "-h":
        Console.WriteLine("""
            usage: larsbot run [--config FILE]                        start the bot
                   larsbot check [--config FILE]                      validate configuration and roster
                   larsbot arbiter --target URL [--every 1m] [--config FILE]
                                                                      watchdog: page everybody if the bot is down
            """ + LedgerCli.Usage);
        return 0;
    default:
        Console.Error.WriteLine($"larsbot: unknown command '{verb}'. Try: larsbot help");
        return 64;
}
