using System.Net.Http.Json;
using Larsbot.Hosting;
using Larsbot.Intake;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Larsbot.Tests.EndToEnd;

/// <summary>
/// The real daemon, built by the same LarsbotHost as production, in this process: real Kestrel and TCP intake on
/// free loopback ports, a real IRC server, the Twilio/Pushover stand-in, a SQLite file in a temp folder.
/// Durations are short through configuration, exactly as an operator would set them. With native: true it is the
/// deployed Native AOT executable instead, in its own process, driven through the same doors.
/// </summary>
public sealed class RunningBot : IAsyncDisposable
{
    private readonly WebApplication? _app;
    private readonly BotProcess? _process;

    private RunningBot(WebApplication? app, BotProcess? process, string dbPath, string httpBase, int tcpPort)
    {
        _app = app;
        _process = process;
        DbPath = dbPath;
        HttpBase = httpBase;
        TcpPort = tcpPort;
        Http = new HttpClient { BaseAddress = new Uri(httpBase), Timeout = TimeSpan.FromSeconds(20) };
    }

    public WebApplication App => _app ?? throw new InvalidOperationException("the native bot runs in its own process");
    public string DbPath { get; }

    /// <summary>The PostgreSQL database when the bot runs on one (Database:ConnectionString), else null.</summary>
    public string? ConnectionString { get; init; }
    public string HttpBase { get; }
    public int TcpPort { get; }
    public HttpClient Http { get; }
    public const string Channel = "#ops";
    public const string Nick = "Lars_Botlesen";

    // Private: every test names its TempDatabase, so the PostgreSQL pass can never be bypassed by a SQLite path.
    private static Dictionary<string, string?> Settings(int ircPort, FakeProviders providers, string dbPath) => new()
    {
        ["Irc:Server"] = "127.0.0.1",
        ["Irc:Port"] = ircPort.ToString(),
        ["Irc:Channel"] = Channel,
        ["Irc:ReconnectMinDelay"] = "00:00:00.200",
        ["Irc:ReconnectMaxDelay"] = "00:00:01",
        ["Irc:FloodBurst"] = "20",
        ["Irc:FloodInterval"] = "00:00:00.100",
        ["Intake:HttpUrl"] = "http://127.0.0.1:0",
        ["Intake:TcpPort"] = "0",
        ["Paging:Countdown"] = "00:00:03",
        ["Paging:TickEvery"] = "00:00:01",
        ["Paging:EscalateAfter"] = "00:00:03",
        ["Paging:AckModeFor"] = "00:00:04",
        ["Twilio:AccountSid"] = FakeProviders.DefaultAccountSid,
        ["Twilio:AuthToken"] = FakeProviders.DefaultAuthToken,
        ["Twilio:From"] = FakeProviders.DefaultTwilioFrom,
        ["Twilio:BaseUrl"] = providers.BaseUrl,
        ["Pushover:AppToken"] = FakeProviders.DefaultPushoverAppToken,
        ["Pushover:BaseUrl"] = providers.BaseUrl,
        ["Database:Path"] = dbPath,
        ["Roster:Path"] = Path.Combine(RepoPaths.Root, "roster.sample.json"),
        ["Logging:LogLevel:Default"] = Environment.GetEnvironmentVariable("LARSBOT_TEST_LOGLEVEL") ?? "Warning",
    };

    /// <summary>
    /// The bot's settings on <paramref name="db"/>: its SQLite file, or in the PostgreSQL
    /// pass (LARSBOT_TEST_DB=postgres) its PostgreSQL database.
    /// </summary>
    public static Dictionary<string, string?> Settings(int ircPort, FakeProviders providers, TempDatabase db)
    {
        var s = Settings(ircPort, providers, db.Path);
        foreach (var (key, value) in db.Settings()) s[key] = value;
        if (db.ConnectionString is not null) s["Leadership:Name"] = "test";
        return s;
    }

    /// <summary>The bot's settings on a PostgreSQL database of the test's own (the leader/standby tests' shared one).</summary>
    public static Dictionary<string, string?> PostgresSettings(int ircPort, FakeProviders providers, string connectionString)
    {
        var s = Settings(ircPort, providers, "");
        s.Remove("Database:Path");
        s["Database:Provider"] = "postgres";
        s["Database:ConnectionString"] = connectionString;
        return s;
    }

    /// <summary>The bot in this process, or (<paramref name="native"/>) the native executable on free loopback ports.</summary>
    public static async Task<RunningBot> StartAsync(Dictionary<string, string?> settings, bool native)
    {
        if (!native) return await StartAsync(settings);
        var s = new Dictionary<string, string?>(settings);
        var tcp = Ports.Free();
        s["Intake:TcpPort"] = tcp.ToString();
        var http = Ports.Free();
        var process = BotProcess.Start(s, http, Path.GetDirectoryName(settings["Database:Path"])!, native: true);
        await process.WaitReadyAsync(TimeSpan.FromSeconds(30), anyAnswer: true);
        return new RunningBot(null, process, settings["Database:Path"]!, $"http://127.0.0.1:{http}", tcp)
            { ConnectionString = settings.GetValueOrDefault("Database:ConnectionString") };
    }

    public static async Task<RunningBot> StartAsync(Dictionary<string, string?> settings, Microsoft.Extensions.Logging.ILoggerProvider? logs = null)
    {
        if (settings.ContainsKey("Database:ConnectionString") && !settings.ContainsKey("Leadership:LeaseFor"))
        {
            // In this process, beside every other test on two cores, a renewal can come later than the default lease's
            // 4 s of validity; this lone bot would then stop mid-test. The lease itself is tested on real processes at its
            // defaults (PartitionAndRestartTests, FailoverTests); a clean stop still hands it over at once.
            settings = new Dictionary<string, string?>(settings) { ["Leadership:LeaseFor"] = "00:00:30" };
        }
        var app = LarsbotHost.Build([], configFile: null, overrides: settings,
            services: logs is null ? null : s => s.AddSingleton(logs));
        await app.StartAsync();
        var http = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var tcp = await app.Services.GetRequiredService<TcpIntakeServer>().Port;
        return new RunningBot(app, null, settings["Database:Path"]!, http, tcp)
            { ConnectionString = settings.GetValueOrDefault("Database:ConnectionString") };
    }

    /// <summary>Waits for /health to answer 200 as the leader (IRC joined, database writable, engine running).</summary>
    public async Task WaitHealthyAsync(TimeSpan? timeout = null)
    {
        var last = "";
        var healthy = await Eventually.HoldsAsync(async () =>
        {
            var r = await Http.GetAsync("/health");
            last = await r.Content.ReadAsStringAsync();
            // On PostgreSQL a lone instance is a healthy standby until it wins the lease, within a second of start.
            return r.IsSuccessStatusCode && last.Contains("\"role\":\"leader\"", StringComparison.Ordinal);
        }, timeout ?? TimeSpan.FromSeconds(15));
        if (!healthy) throw new TimeoutException("bot never became healthy: " + last);
    }

    public async Task<long> PostAlertAsync(string host, string level, string message)
    {
        var r = await Http.PostAsync("/alerts", new FormUrlEncodedContent(new Dictionary<string, string> { ["host"] = host, ["level"] = level, ["message"] = message }));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, r.StatusCode);
        var body = await r.Content.ReadFromJsonAsync<Dictionary<string, long>>();
        return body!["id"];
    }

    /// <summary>A connection of the test's own to this bot's database (its SQLite file or its PostgreSQL database).</summary>
    public System.Data.Common.DbConnection Connect() => TempDatabase.Connect(DbPath, ConnectionString);

    /// <summary>The alert's text as stored (message_raw when it held a NUL).</summary>
    public async Task<string> StoredMessageAsync(long id)
    {
        using var db = ConnectionString is { } cs ? Larsbot.Storage.Database.Postgres(cs) : new Larsbot.Storage.Database(DbPath);
        await using var c = db.Open();
        return await Dapper.SqlMapper.ExecuteScalarAsync<string>(c, "SELECT message FROM alerts WHERE id = @id", new { id }) ?? "";
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_process is not null) await _process.DisposeAsync();
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
