namespace Larsbot.Leadership;

/// <summary>Bound from "Leadership". Used only with Database:Provider=postgres: a SQLite file has one instance.</summary>
public sealed class LeadershipOptions
{
    /// <summary>This instance's name, as the channel hears it ("taking over from ops1") and /health shows it.</summary>
    public string Name { get; set; } = Environment.MachineName;

    /// <summary>How long a lease lasts on the database's clock without a renewal: a dead leader is replaced after this.</summary>
    public TimeSpan LeaseFor { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the leader renews, and a standby looks whether the lease has expired.</summary>
    public TimeSpan RenewEvery { get; set; } = TimeSpan.FromSeconds(1);

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 64 || Name.Any(char.IsControl))
            yield return "Leadership:Name must be 1 to 64 printable characters";
        if (RenewEvery <= TimeSpan.Zero) yield return "Leadership:RenewEvery must be positive";
        if (LeaseFor < RenewEvery * 3) yield return "Leadership:LeaseFor must be at least three times Leadership:RenewEvery";
    }
}
