using Larsbot.Tests.EndToEnd;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;

namespace Larsbot.Tests.Support;

/// <summary>
/// What an end-to-end test stands on: a real ngircd, the Twilio/Pushover stand-in, a fresh database (SQLite, or PostgreSQL in that pass), and the
/// bot's settings pointing at all three. Disposed in one go.
/// </summary>
public sealed class BotRig : IAsyncDisposable
{
    private BotRig(NgircdServer irc, FakeProviders providers, TempDatabase db)
    {
        Irc = irc;
        Providers = providers;
        Db = db;
        Settings = RunningBot.Settings(irc.Port, providers, db);
    }

    public NgircdServer Irc { get; }
    public FakeProviders Providers { get; }
    public TempDatabase Db { get; }
    public Dictionary<string, string?> Settings { get; }

    public static async Task<BotRig> StartAsync() =>
        new(await NgircdServer.StartAsync(), await FakeProviders.StartAsync(), new TempDatabase());

    public void Deconstruct(out NgircdServer irc, out FakeProviders providers, out TempDatabase db, out Dictionary<string, string?> settings) =>
        (irc, providers, db, settings) = (Irc, Providers, Db, Settings);

    public async ValueTask DisposeAsync()
    {
        await Teardown.AllAsync(Providers, Irc, Db);
    }
}
