namespace Larsbot.Ledger;

/// <summary>Bound from "Ledger". The rates and the ledger time zone live in the roster's "ledger" section.</summary>
internal sealed class LedgerOptions
{
    /// <summary>Where the monthly job writes payout-YYYY-MM.{md,csv,html}; relative paths are from the working directory.</summary>
    public string ReportFolder { get; set; } = "reports";

    /// <summary>Local time (ledger time zone) on the 1st at which last month's report is written, and after which the daily report reminder is said.</summary>
    public TimeSpan RunAt { get; set; } = TimeSpan.FromHours(9);
}
