using Larsbot.Setup;
using Dapper;
using Larsbot.Acks;
using Larsbot.Commands;
using Larsbot.Email;
using Larsbot.Intake;
using Larsbot.Irc;
using Larsbot.Leadership;
using Larsbot.Ledger;
using Larsbot.Metrics;
using Larsbot.Notify;
using Larsbot.Outbox;
using Larsbot.Duty;
using Larsbot.Paging;
using Larsbot.Roster;
using Larsbot.StatusPage;
using Larsbot.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Larsbot.Hosting;

/// <summary>Builds the daemon: configuration, then one AddX per capability, then the HTTP endpoints.</summary>
public static class LarsbotHost
{
    static LarsbotHost() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    /// <summary>
    /// Configuration, lowest to highest precedence: built-in defaults, the JSON file (--config, or larsbot.json if
    /// present), LARSBOT_ environment variables (LARSBOT_Irc__Server), <paramref name="overrides"/> (tests), command line.
    /// </summary>
    public static WebApplication Build(string[] args, string? configFile = null, IDictionary<string, string?>? overrides = null,
        Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = args });
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        var config = builder.Configuration;
        configFile ??= File.Exists("larsbot.json") ? "larsbot.json" : null;
        ConfigurationLayers.Add(config, args, configFile, overrides);

        builder.Logging.AddConfiguration(config.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        // Per-request framework logs cost throughput and say nothing an operator needs.
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // Quartz announces its own start-up in a dozen lines; an operator only needs to hear from it when it fails.
        builder.Logging.AddFilter("Quartz", LogLevel.Warning);

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddStorage(config).AddLeadership(config).AddRoster(config).AddIrc(config).AddNotifiers(config).AddOutbox(config).AddPaging(config).AddIntake(config)
            .AddDuty().AddLedger(config).AddCommands().AddDeliveryPolling().AddStatusPage(config).AddMetricsEndpoint().AddPhoneAcks(config).AddPushoverAcks().AddEmailDigest(config);
        services?.Invoke(builder.Services);
        builder.Services.GateLeaderOnlyServices();

        var intake = config.GetSection("Intake").Get<IntakeOptions>() ?? new IntakeOptions();
        if (intake.Validate().ToList() is { Count: > 0 } intakeProblems)
            throw new StartupException(string.Join("; ", intakeProblems));
        builder.WebHost.UseUrls(intake.HttpUrl);
        if (intake.ConnectionThreads > 0)
            builder.Services.AddSingleton<ConnectionThreadsTransport>(sp => new(intake.ConnectionThreads,
                    sp.GetRequiredService<IOptions<SocketTransportOptions>>(), sp.GetRequiredService<ILoggerFactory>()))
                .AddSingleton<IConnectionListenerFactory>(sp => sp.GetRequiredService<ConnectionThreadsTransport>());

        var app = builder.Build();
        app.UseAllowedHosts(); // Intake:AllowedHosts, before any endpoint (DNS rebinding)
        app.UseRouting();
        app.MapIntake();
        app.MapAlertmanager();
        app.MapPagerDuty();
        app.MapMetricsEndpoint();
        app.MapPhoneAcks();
        app.MapPushoverAcks();
        app.MapTwilioStatusCallbacks();
        app.MapHealth();
        app.MapStatusPage();
        // Resolve now so a bad roster or unwritable database stops the start with a clear message, not at first use.
        app.Services.GetRequiredService<Database>();
        app.Services.GetRequiredService<TeamRoster>();
        app.Services.GetRequiredService<ChatCommands>();
        FollowTheLead(app);
        var startup = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Larsbot.Startup");
        WarnIfConfigReadableByOthers(configFile, startup);
        if (NativeHeap.Applied is { } heap)
        {
            var (warning, line) = NativeHeap.Describe(heap);
            startup.Log(warning ? LogLevel.Warning : LogLevel.Debug, "{Heap}", line);
        }
        return app;
    }

    /// <summary>
    /// A standby's commits wake this leader's engine and sender; a leader that loses its lease stops the host rather than
    /// act beside the next leader. The process's exit code and the hard exit are <see cref="ExitWhenTheLeadIsLost"/>'s,
    /// armed only by <c>larsbot run</c>: a host built inside another process (the tests) must never end that process.
    /// </summary>
    private static void FollowTheLead(WebApplication app)
    {
        var role = app.Services.GetRequiredService<Role>();
        if (!role.Shared) return;
        var engine = app.Services.GetRequiredService<PagingEngine>();
        var outbox = app.Services.GetRequiredService<OutboxStore>();
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Larsbot.Leadership");
        role.RemoteWrite += () =>
        {
            engine.Wake.Set();
            outbox.Wake.Set();
        };
        role.LostLeadership += why =>
        {
            log.LogCritical("Lost the lead ({Why}): stopping, so the standby that takes the lease is the only one paging", why);
            lifetime.StopApplication();
        };
    }

    /// <summary>
    /// For the bot's own process (<c>larsbot run</c>): a leader that loses its lease exits 75 (EX_TEMPFAIL), so systemd's
    /// Restart= brings it back as a standby. Nothing it does after losing the lease can page (every send checks it), so a
    /// shutdown stuck on a silent database must not keep it around either: 5 s after the loss it is _exit(2)ed.
    /// Environment.Exit would wait for that same shutdown.
    /// </summary>
    public static void ExitWhenTheLeadIsLost(WebApplication app)
    {
        var role = app.Services.GetRequiredService<Role>();
        if (!role.Shared) return;
        role.LostLeadership += why =>
        {
            Environment.ExitCode = LostLeadExitCode;
            _ = Task.Delay(TimeSpan.FromSeconds(5)).ContinueWith(_ => ExitNow(LostLeadExitCode), TaskScheduler.Default);
        };
    }

#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code enabled for one blittable call
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "_exit")]
    private static extern void ExitNow(int code);
#pragma warning restore SYSLIB1054

    /// <summary>The exit code of a leader that lost its lease (EX_TEMPFAIL): start it again, it comes back as a standby.</summary>
    public const int LostLeadExitCode = 75;

    /// <summary>The config file may hold intake, Twilio, Pushover and SASL secrets: say so when others can read it.</summary>
    private static void WarnIfConfigReadableByOthers(string? configFile, ILogger log)
    {
        if (configFile is null || OperatingSystem.IsWindows()) return;
        var mode = File.GetUnixFileMode(configFile);
        if ((mode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            log.LogWarning("Config file {Path} is readable by group or others (mode {Mode}) and may hold secrets: chmod 600 it",
                Path.GetFullPath(configFile), Convert.ToString((int)mode, 8));
    }
}
