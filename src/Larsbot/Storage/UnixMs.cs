namespace Larsbot.Storage;

/// <summary>Times are stored as Unix milliseconds (UTC): exact, sortable, and comparable inside SQL.</summary>
public static class UnixMs
{
    public static long From(DateTimeOffset t) => t.ToUnixTimeMilliseconds();
    public static DateTimeOffset To(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
