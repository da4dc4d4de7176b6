using Larsbot.Tests.Support;
using Dapper;
using Larsbot.Commands;
using Larsbot.Duty;
using Larsbot.Ledger;
using Larsbot.Paging;
using Microsoft.Extensions.DependencyInjection;
using Larsbot.Storage;
using Larsbot.Tests.Paging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Larsbot.Tests.Ledger;

/// <summary>
/// The engine harness plus everything issue 3 adds, wired as the host wires it, with the channel's commands run
/// through <see cref="ChatCommands"/>. Clock times are given in the ledger's zone (the sample roster: Melbourne).
/// </summary>
internal sealed class LedgerHarness : IDisposable
{
    public static readonly TimeZoneInfo Melbourne = TimeZoneInfo.FindSystemTimeZoneById("Australia/Melbourne");

    public LedgerHarness(DateTimeOffset start, string? reportFolder = null) : this(new EngineHarness(clock: new FakeTimeProvider(start)), reportFolder)
    {
    }

    /// <summary>Over an existing engine harness: pass one sharing another's database and clock to play a restart.</summary>
    public LedgerHarness(EngineHarness engine, string? reportFolder = null)
    {
        Engine = engine;
        Options = new LedgerOptions { ReportFolder = reportFolder ?? Path.Combine(Engine.TempDb.Dir, "reports") };
        Ledger = new LedgerStore(Engine.Db, Engine.Roster);
        Payouts = new Payouts(Engine.Db, Engine.Roster, Ledger, Engine.Outbox, Engine.Clock,
            Microsoft.Extensions.Options.Options.Create(Options), NullLogger<Payouts>.Instance);
        Reports = new IncidentReports(Engine.Db, Engine.Roster, Ledger, Engine.Outbox, Engine.Clock);
        Handover = Engine.Duty;
        Commands = new ChatCommands(Engine.Channel, Engine.Outbox, Engine.Acks, Engine.Services.GetRequiredService<StatusReport>(), Handover,
            Engine.Roster, NullLogger<ChatCommands>.Instance, [new DutyAndLedgerCommands(Handover, Reports, Payouts, Engine.Outbox)]);
    }

    public EngineHarness Engine { get; }
    public LedgerOptions Options { get; }
    public LedgerStore Ledger { get; }
    public Payouts Payouts { get; }
    public IncidentReports Reports { get; }
    public DutyHandover Handover { get; }
    public ChatCommands Commands { get; }
    public FakeTimeProvider Clock => Engine.Clock;

    /// <summary>A wall-clock time in Melbourne, as an instant.</summary>
    public static DateTimeOffset Mel(int year, int month, int day, int hour, int minute = 0) =>
        new(TimeZoneInfo.ConvertTimeToUtc(new DateTime(year, month, day, hour, minute, 0, DateTimeKind.Unspecified), Melbourne), TimeSpan.Zero);

    /// <summary>Jumps the clock forward and lets the engine do what is due, as its loop would.</summary>
    public async Task AtAsync(DateTimeOffset t)
    {
        Assert.True(t >= Clock.GetUtcNow(), $"clock cannot go back to {t:O}");
        Clock.SetUtcNow(t);
        await Engine.Engine.RunDueAsync();
    }

    /// <summary>What someone types: "lars duty give brong" from robn; then the engine's pass the command wakes.</summary>
    public async Task SayAsync(string nick, string line)
    {
        await Commands.RunAsync(TestRoster.Local(nick, line), ChatCommands.Extract(line, "Lars_Botlesen", isPrivate: false)!);
        await Engine.Engine.RunDueAsync();
    }

    /// <summary>The outbox's part: every page that is due is accepted by its provider now.</summary>
    public Task<int> SendOutboxAsync() =>
        Engine.Db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE outbox SET state = 'sent', sent_at = @now, attempts = attempts + 1 WHERE state = 'due' AND channel <> 'irc'",
            new { now = UnixMs.From(Clock.GetUtcNow()) }, tx));

    public void Dispose() => Engine.Dispose();
}
