using Larsbot.Hosting;
using Larsbot.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Quartz;
using static Larsbot.Tests.Ledger.LedgerHarness;

namespace Larsbot.Tests.Ledger;

/// <summary>The host registers the monthly payout with Quartz: the 1st at 09:00 in the ledger's zone, not UTC.</summary>
public class MonthlyJobScheduleTests
{
    [Fact]
    public async Task The_monthly_job_fires_on_the_first_at_nine_ledger_time()
    {
        using var db = new TempDatabase();
        var settings = db.Settings();
        settings["Roster:Path"] = Path.Combine(RepoPaths.Root, "roster.sample.json");
        settings["Intake:TcpPort"] = "-1";
        await using var app = LarsbotHost.Build([], configFile: null, overrides: settings);
        var scheduler = await app.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var trigger = Assert.IsAssignableFrom<ICronTrigger>(await scheduler.GetTrigger(new TriggerKey("monthly-payout")));
        Assert.Equal("Australia/Melbourne", trigger.TimeZone.Id);
        // The trigger starts now (real clock), so walk its next 14 fires: whatever the year, they cross both daylight
        // saving changes, and each is the 1st at 09:00 Melbourne time while its UTC offset moves between +10 and +11.
        var fires = new List<DateTimeOffset>();
        for (DateTimeOffset? t = trigger.StartTimeUtc; fires.Count < 14; fires.Add(t!.Value)) t = trigger.GetFireTimeAfter(t);
        Assert.All(fires.Select(f => TimeZoneInfo.ConvertTime(f, Melbourne)), local => Assert.Equal((1, 9, 0), (local.Day, local.Hour, local.Minute)));
        Assert.Equal([10, 11], fires.Select(f => (int)Melbourne.GetUtcOffset(f).TotalHours).Distinct().Order());
    }
}
