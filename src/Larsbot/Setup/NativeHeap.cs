using System.Runtime.InteropServices;

namespace Larsbot.Setup;

/// <summary>
/// Fixed thresholds for glibc's malloc, set once at start (Linux only). SQLite allocates its page caches with malloc,
/// and a reader's cache is dropped and read again whenever another connection commits (WAL mode), so under load the
/// same few megabytes are freed and allocated again thousands of times a second. With glibc's defaults the memory
/// freed at the top of an arena is handed back to the kernel (madvise or brk) whenever it passes a trim threshold,
/// and malloc faults it in again a moment later; each hand-back is a TLB flush on every core. glibc moves that
/// threshold by itself (to twice the largest mmapped block freed so far), so whether a process hands memory back
/// all the time depended on what it happened to allocate at start: bots from the same executable, side by side, ran
/// anywhere from 3,600 alerts a second at 350 µs CPU each to 23,000 at 57 µs (docs/performance-notes.md, the ninth
/// session). Fixed thresholds make every process the fast one: free memory up to <see cref="TrimThreshold"/> stays
/// in the process, and blocks under <see cref="MmapThreshold"/> come from the arenas.
/// </summary>
public static class NativeHeap
{
    /// <summary>Free memory at the top of an arena kept in the process, not handed back (glibc's default: 128 KiB, moving).</summary>
    public const int TrimThreshold = 64 << 20;

    /// <summary>Blocks this big or bigger get their own mapping (glibc's default: 128 KiB, moving up to 32 MiB).</summary>
    public const int MmapThreshold = 4 << 20;

    private const int M_TRIM_THRESHOLD = -1;
    internal const int M_MMAP_THRESHOLD = -3;

    /// <summary>What <see cref="Apply"/> did: set both, left an operator's own GLIBC_TUNABLES alone, or could not.</summary>
    public enum Outcome { Set, LeftToTunables, NotGlibc, Refused }

    /// <summary>
    /// Sets both thresholds, unless the environment already sets malloc's (an operator's GLIBC_TUNABLES wins) or this
    /// is not Linux with glibc. Call first thing, before threads allocate much.
    /// </summary>
    public static Outcome Apply(string? glibcTunables) => (Applied = Set(glibcTunables)).Value;

    /// <summary>What the last <see cref="Apply"/> did (null: not called; the host logs it at start).</summary>
    public static Outcome? Applied { get; private set; }

    private static Outcome Set(string? glibcTunables)
    {
        if (!OperatingSystem.IsLinux()) return Outcome.NotGlibc;
        if (TunablesSetMalloc(glibcTunables)) return Outcome.LeftToTunables;
        try
        {
            // mallopt answers 1 when it took the value.
            return mallopt(M_TRIM_THRESHOLD, TrimThreshold) == 1 && mallopt(M_MMAP_THRESHOLD, MmapThreshold) == 1
                ? Outcome.Set
                : Outcome.Refused;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return Outcome.NotGlibc; // musl, say: no mallopt to call, nothing to do
        }
    }

    /// <summary>
    /// The start-up log line for an outcome. Only a refusal is a warning: it leaves the moving thresholds that made
    /// some processes several times slower than others.
    /// </summary>
    public static (bool Warning, string Line) Describe(Outcome outcome) => outcome switch
    {
        Outcome.Set => (false, $"malloc thresholds set: trim {TrimThreshold >> 20} MiB, mmap {MmapThreshold >> 20} MiB"),
        Outcome.LeftToTunables => (false, "malloc thresholds left to GLIBC_TUNABLES, which sets glibc.malloc"),
        Outcome.NotGlibc => (false, "malloc thresholds not set: no glibc mallopt here"),
        _ => (true, "malloc thresholds not set: glibc's mallopt refused them, so memory may be handed back and faulted in again under load (docs/performance-notes.md, the ninth session)"),
    };

    /// <summary>True when GLIBC_TUNABLES (colon-separated name=value pairs) sets any glibc.malloc tunable.</summary>
    public static bool TunablesSetMalloc(string? glibcTunables) =>
        !string.IsNullOrEmpty(glibcTunables)
        && glibcTunables.Split(':').Any(t => t.TrimStart().StartsWith("glibc.malloc.", StringComparison.Ordinal));

    // DllImport, not LibraryImport: two ints need no marshalling code, and LibraryImport would need unsafe blocks.
#pragma warning disable SYSLIB1054
    [DllImport("libc.so.6", ExactSpelling = true)]
    internal static extern int mallopt(int param, int value);
#pragma warning restore SYSLIB1054
}
