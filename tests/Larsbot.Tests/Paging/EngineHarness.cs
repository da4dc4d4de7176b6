using Dapper;
using Larsbot.Intake;
using Larsbot.Paging;
using Larsbot.Roster;
using Larsbot.Storage;
using Larsbot.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Larsbot.Tests.Paging;

/// <summary>The engine on a fake clock over a real SQLite file, with the channel recorded.</summary>
public sealed class EngineHarness : IDisposable
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 23, 3, 0, 0, TimeSpan.Zero);

    public EngineHarness(TempDatabase? sharedDb = null, FakeTimeProvider? clock = null, PagingOptions? options = null, TeamRoster? roster = null)
    {
        OwnsDb = sharedDb is null;
        TempDb = sharedDb ?? new TempDatabase();
        Db = TempDb.Open();
        Clock = clock ?? new FakeTimeProvider(T0);
        Options = options ?? new PagingOptions();
        Channel = new RecordingChannel();
        Roster = roster ?? TestRoster.Sample();
        Engine = new PagingEngine(Db, Roster, Channel, Clock, Microsoft.Extensions.Options.Options.Create(Options), NullLogger<PagingEngine>.Instance);
        Intake = new AlertIntake(Db, new AlertBatcher(Db), Engine, Clock, NullLogger<AlertIntake>.Instance);
    }

    private bool OwnsDb { get; }
    public TempDatabase TempDb { get; }
    public Database Db { get; }
    public FakeTimeProvider Clock { get; }
    public PagingOptions Options { get; }
    public RecordingChannel Channel { get; }
    public TeamRoster Roster { get; }
    public PagingEngine Engine { get; }
    public AlertIntake Intake { get; }

    public async Task<long> AlertAsync(string host, string message, string level = "urgent")
    {
        var r = await Intake.AcceptAsync(new AlertInput(host, level, message), "test");
        Assert.True(r.Ok, r.Error);
        return r.Id!.Value;
    }

    /// <summary>Moves the clock in steps no larger than the engine asks for, running it at each, like the real loop.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        var end = Clock.GetUtcNow() + by;
        while (true)
        {
            var next = await Engine.RunDueAsync();
            if (next is null || next > end) break;
            if (next > Clock.GetUtcNow()) Clock.SetUtcNow(next.Value);
        }
        Clock.SetUtcNow(end);
        await Engine.RunDueAsync();
    }

    /// <summary>The outbox sender over this harness's file, clock and channel, with these notifiers.</summary>
    public OutboxSender Sender(IEnumerable<Larsbot.Notify.INotifier> notifiers, DeliveryReports? reports = null) =>
        new(Db, Engine, Channel, notifiers, Clock, Microsoft.Extensions.Options.Options.Create(Options), NullLogger<OutboxSender>.Instance, reports);

    public Task TakeDutyAsync(string personId, string nick) => Engine.TakeDutyAsync(nick, Roster.FindById(personId)!);

    public Task AckAsync(string nick) => Engine.AckAsync(nick, Roster.FindByNick(nick)!);

    public async Task<List<PageRow>> PagesAsync() =>
        await Db.ReadAsync(async c => (await c.QueryAsync<PageRow>("SELECT * FROM pages ORDER BY id")).ToList());

    public async Task<List<CountdownRow>> CountdownsAsync() =>
        await Db.ReadAsync(async c => (await c.QueryAsync<CountdownRow>("SELECT * FROM countdowns ORDER BY id")).ToList());

    public void Dispose()
    {
        Engine.Dispose();
        if (OwnsDb) TempDb.Dispose();
    }
}
