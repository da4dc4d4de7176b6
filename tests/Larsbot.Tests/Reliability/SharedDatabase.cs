using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Npgsql;

namespace Larsbot.Tests.Reliability;

/// <summary>
/// Several real bot processes (the native executable by default: it starts in about 0.2 s) on one PostgreSQL database, with
/// their own IRC server and provider stand-ins: what a leader + standby deployment is, on loopback.
/// </summary>
internal sealed class SharedDatabase : IAsyncDisposable
{
    public const string Body = "db1: replication stopped";
    public const string EveryoneBody = "db1: replication stopped (not acked in 2 secs: paging everybody)";

    /// <summary>What an unacked page with brong on duty sends, once each: the first page, then everybody.</summary>
    public static readonly string[] ExpectedPages =
    [
        $"sms +61400000001 {Body}", $"push uQiRzpo4DXghDmr9QzzfQu27cmVRsG {Body}",
        $"sms +61400000001 {EveryoneBody}", $"sms +61400000002 {EveryoneBody}", $"sms +4790000003 {EveryoneBody}",
        $"push uQiRzpo4DXghDmr9QzzfQu27cmVRsG {EveryoneBody}", $"push azGDORePK8gMaC0QOYAMyEEuzJnyUi {EveryoneBody}",
    ];

    private readonly List<BotProcess> _bots = [];

    private SharedDatabase(NgircdServer irc, string connectionString, string dir, string channel)
    {
        Irc = irc;
        ConnectionString = connectionString;
        Dir = dir;
        Channel = channel;
    }

    public NgircdServer Irc { get; }
    public string ConnectionString { get; }
    public string Dir { get; }
    public string Channel { get; }

    /// <param name="connectionString">A fresh database (null: one on the tests' shared PostgreSQL server).</param>
    public static async Task<SharedDatabase> StartAsync(string name, string? connectionString = null, bool onDuty = true)
    {
        var irc = await NgircdServer.StartAsync();
        var cs = connectionString ?? await PostgresServer.Shared.CreateDatabaseAsync();
        var dir = Directory.CreateTempSubdirectory("larsbot-ha-").FullName;
        var shared = new SharedDatabase(irc, cs, dir, "#" + name);
        using var db = Larsbot.Storage.Database.Postgres(cs);
        db.Migrate();
        if (onDuty)
        {
            await using var c = db.Open();
            await c.ExecuteAsync("INSERT INTO duty_changes(at, person_id, by_nick, kind) VALUES (@at, 'brong', 'brong', 'take')",
                new { at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
        }
        return shared;
    }

    /// <summary>An instance's settings: short paging times as an operator could set them, the lease at its defaults.</summary>
    public Dictionary<string, string?> Settings(string instance, FakeProviders providers, string? connectionString = null)
    {
        var s = RunningBot.PostgresSettings(Irc.Port, providers, connectionString ?? ConnectionString);
        s.Remove("Intake:HttpUrl");
        s["Leadership:Name"] = instance;
        s["Irc:Channel"] = Channel;
        s["Irc:Nick"] = "lars" + Channel[1..];
        s["Intake:TcpPort"] = "-1";
        s["Paging:Countdown"] = "00:00:02";
        s["Paging:TickEvery"] = "00:00:00.500";
        s["Paging:EscalateAfter"] = "00:00:02";
        s["Paging:RetryMinDelay"] = "00:00:00.200";
        s["Paging:IrcDownGrace"] = "00:01:00";
        return s;
    }

    /// <summary>Starts an instance and waits until /health answers 200 (as leader or standby).</summary>
    /// <param name="native">The native executable (the deployed form), or larsbot.dll on the JIT.</param>
    public async Task<BotProcess> StartBotAsync(Dictionary<string, string?> settings, bool native = true)
    {
        for (var attempt = 1; ; attempt++)
        {
            var bot = BotProcess.Start(settings, Ports.Free(), Dir, native);
            try
            {
                await bot.WaitReadyAsync(TimeSpan.FromSeconds(30));
                lock (_bots) _bots.Add(bot);
                return bot;
            }
            catch (InvalidOperationException) when (attempt < 3 && bot.HasExited && bot.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                // A port found free was taken by another test's process before this one bound it: another port.
                await bot.DisposeAsync();
            }
        }
    }

    /// <summary>/health's role ("leader" or "standby"), or null when it does not answer.</summary>
    public static async Task<string?> RoleAsync(BotProcess bot)
    {
        try
        {
            using var r = await bot.Http.GetAsync("/health");
            var body = await r.Content.ReadFromJsonAsync<JsonElement>();
            return body.GetProperty("role").GetString();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    public static Task WaitRoleAsync(BotProcess bot, string role, TimeSpan timeout) =>
        Eventually.TrueAsync(async () => await RoleAsync(bot) == role, timeout, $"never became {role}:\n{bot.Output}", TimeSpan.FromMilliseconds(100));

    public static Task<HttpResponseMessage> PostUrgentAsync(BotProcess bot) =>
        bot.Http.PostAsync("/alerts", new FormUrlEncodedContent(new Dictionary<string, string>
            { ["host"] = "db1", ["level"] = "urgent", ["message"] = "replication stopped" }));

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var c = new NpgsqlConnection(ConnectionString);
        await c.OpenAsync();
        return (await c.ExecuteScalarAsync<T>(sql))!;
    }

    /// <summary>Every page request the stand-ins saw, as "sms +614... body" / "push user body".</summary>
    public static List<string> Pages(params FakeProviders[] providers) =>
        providers.SelectMany(p => p.TwilioRequests.Select(q => $"sms {q["To"]} {q["Body"]}")
            .Concat(p.PushoverRequests.Select(q => $"push {q["user"]} {q["message"]}"))).ToList();

    public async ValueTask DisposeAsync()
    {
        List<BotProcess> bots;
        lock (_bots) bots = [.. _bots];
        await Teardown.AllAsync([.. bots, Irc]);
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
