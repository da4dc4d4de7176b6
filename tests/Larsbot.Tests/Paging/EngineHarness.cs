using Dapper;
using Larsbot.Duty;
using Larsbot.Intake;
using Larsbot.Irc;
using Larsbot.Outbox;
using Larsbot.Paging;
using Larsbot.Roster;
using Larsbot.Storage;
using Larsbot.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Larsbot.Tests.Paging;

/// <summary>
/// The engine on a fake clock over a real SQLite file, wired by the host's own AddOutbox/AddPaging/AddDuty, with the
/// channel recorded: what the outbox has to say is heard whenever the test reads the channel.
/// </summary>
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
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(Db);
        services.AddSingleton<TimeProvider>(Clock);
        services.AddSingleton(Roster);
        services.AddSingleton<IChannel>(Channel);
        var config = new ConfigurationBuilder().Build();
        services.AddOutbox(config).AddPaging(config).AddDuty();
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(Options));
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(OutboxOptions));
        Services = services.BuildServiceProvider();
        Outbox = Services.GetRequiredService<OutboxStore>();
        Engine = Services.GetRequiredService<PagingEngine>();
        Acks = Services.GetRequiredService<AckStore>();
        Duty = Services.GetRequiredService<DutyHandover>();
        Presence = Services.GetRequiredService<ChatPresence>();
        // Intake shares the engine's handled mark and open keys, as in the host (AddPaging registers them).
        Intake = new AlertIntake(Db, new AlertBatcher(Db, Services.GetRequiredService<HandledMark>()), Services.GetRequiredService<EngineWake>(), Clock,
            NullLogger<AlertIntake>.Instance, openKeys: Services.GetRequiredService<OpenKeys>());
        OutboxLines.Feed(Channel, Db, Outbox);
        // What the IRC side does in the host: a lost connection and a rejoin are rows the engine reads.
        Channel.Disconnected += Presence.LostAsync;
        Channel.Joined += Presence.BackAsync;
    }

    public ServiceProvider Services { get; }
    public OutboxOptions OutboxOptions { get; } = new();
    public OutboxStore Outbox { get; }
    public AckStore Acks { get; }
    public DutyHandover Duty { get; }
    public ChatPresence Presence { get; }

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
        new(Db, Outbox, notifiers, Clock, Microsoft.Extensions.Options.Options.Create(OutboxOptions), NullLogger<OutboxSender>.Instance,
            reports is null ? [] : [reports]);

    /// <summary>`lars duty take`, then the engine's pass that the command wakes (the topic follows duty).</summary>
    public async Task TakeDutyAsync(string personId, string nick)
    {
        await Duty.TakeAsync(nick, Roster.FindById(personId)!);
        await Engine.RunDueAsync();
    }

    public Task AckAsync(string nick) => Acks.AckAsync(nick, Roster.FindByNick(nick)!);

    public StatusReport Status => Services.GetRequiredService<StatusReport>();
    public SilenceStore Silences => Services.GetRequiredService<SilenceStore>();

    /// <summary>The chat command dispatcher over this harness, listening to its channel.</summary>
    public Larsbot.Commands.ChatCommands Commands(IEnumerable<Larsbot.Commands.IChatCommandHandler>? handlers = null, TimeProvider? time = null) =>
        new(Channel, Outbox, Acks, Status, Duty, Roster, NullLogger<Larsbot.Commands.ChatCommands>.Instance, handlers, time);

    /// <summary>The pages to people (the outbox's channel lines are what <see cref="Channel"/> hears).</summary>
    public async Task<List<PageRow>> PagesAsync() =>
        await Db.ReadAsync(async c => (await c.QueryAsync<PageRow>("SELECT * FROM pages ORDER BY id")).ToList());

    public async Task<List<CountdownRow>> CountdownsAsync() =>
        await Db.ReadAsync(async c => (await c.QueryAsync<CountdownRow>("SELECT * FROM countdowns ORDER BY id")).ToList());

    public void Dispose()
    {
        Services.Dispose();
        if (OwnsDb) TempDb.Dispose();
    }
}
