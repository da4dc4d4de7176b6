using System.Net.Sockets;
using System.Text;
using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Intake;

/// <summary>
/// A real ngircd and provider stand-in shared by the bots a test class starts (each with its own database, SQLite or
/// PostgreSQL, and settings): the base of the over-the-wire intake tests.
/// </summary>
public abstract class BotsOnOneIrc : IAsyncLifetime
{
    public const string Shared = "shared-token-0123456789";
    public const string Gateways = "gateway-token-0123456789";
    protected NgircdServer Irc { get; private set; } = null!;
    protected FakeProviders Providers { get; private set; } = null!;
    private readonly List<(TempDatabase Db, RunningBot Bot)> _bots = [];

    public async Task InitializeAsync()
    {
        Irc = await NgircdServer.StartAsync();
        Providers = await FakeProviders.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync([.. _bots.SelectMany(b => new object[] { b.Bot, b.Db }), Providers, Irc]);
    }

    protected async Task<(RunningBot Bot, TempDatabase Db)> StartAsync(Dictionary<string, string?>? extra = null)
    {
        var db = new TempDatabase();
        var settings = RunningBot.Settings(Irc.Port, Providers, db);
        foreach (var (k, v) in extra ?? []) settings[k] = v;
        var bot = await RunningBot.StartAsync(settings);
        _bots.Add((db, bot));
        return (bot, db);
    }

    /// <summary>The setup: a shared token and one limited to gateway* hosts; loopback needs a token too.</summary>
    protected static Dictionary<string, string?> TwoTokens() => new()
    {
        ["Intake:AllowLoopbackWithoutToken"] = "false",
        ["Intake:Tokens:0:Name"] = "monitoring",
        ["Intake:Tokens:0:Token"] = Shared,
        ["Intake:Tokens:1:Name"] = "gateways",
        ["Intake:Tokens:1:Token"] = Gateways,
        ["Intake:Tokens:1:Hosts:0"] = "gateway*",
    };

    protected static Task<long> ScalarAsync(TempDatabase db, string sql) => db.ScalarAsync<long>(sql);

    protected static async Task<HttpResponseMessage> PostJsonAsync(RunningBot bot, string path, string json, string? bearer = null,
        string contentType = "application/json")
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8) };
        req.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        if (bearer is not null) req.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        return await bot.Http.SendAsync(req);
    }

    /// <summary>Writes the lines, then reads answers until <paramref name="answers"/> came or the server closed.</summary>
    protected static async Task<List<string>> TcpAsync(RunningBot bot, int answers, params string[] lines)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", bot.TcpPort);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n"))));
        using var reader = new StreamReader(stream);
        var result = new List<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (result.Count < answers && await reader.ReadLineAsync(cts.Token) is { } a) result.Add(a);
        return result;
    }
}
