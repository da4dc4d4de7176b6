using System.Runtime.InteropServices;
using Larsbot.Hosting;
using Larsbot.Setup;
using Larsbot.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Larsbot.Tests.Hosting;

/// <summary>
/// glibc's malloc thresholds, fixed at start (Setup/NativeHeap.cs). Checked on this process's own malloc: after
/// <see cref="NativeHeap.Apply"/>, a 2 MiB block comes from an arena instead of a mapping of its own.
/// </summary>
public class NativeHeapTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("glibc.malloc.trim_threshold=1048576", true)]
    [InlineData("glibc.rtld.optional_static_tls=512:glibc.malloc.arena_max=2", true)]
    [InlineData("glibc.rtld.optional_static_tls=512", false)]
    [InlineData("glibc.pthread.rseq=0:glibc.mem.tagging=0", false)]
    public void An_operators_own_malloc_tunables_are_left_alone(string? tunables, bool theirs)
    {
        Assert.Equal(theirs, NativeHeap.TunablesSetMalloc(tunables));
        if (theirs && OperatingSystem.IsLinux()) Assert.Equal(NativeHeap.Outcome.LeftToTunables, NativeHeap.Apply(tunables));
    }

    [Fact]
    public void On_glibc_the_thresholds_are_set_and_a_2_MiB_block_comes_from_an_arena()
    {
        if (!OperatingSystem.IsLinux()) return; // the bot's target is Linux; elsewhere Apply does nothing
        // First glibc's default threshold (128 KiB), fixed, so the measurement is seen to work: a 2 MiB block gets a
        // mapping of its own. (Left moving, this test process may already have raised it past 2 MiB.)
        Assert.Equal(1, NativeHeap.mallopt(NativeHeap.M_MMAP_THRESHOLD, 128 << 10));
        Assert.True(Tries(mapped: true) > 0, "with a 128 KiB threshold no 2 MiB block got a mapping: the measurement does not see glibc");
        Assert.Equal(NativeHeap.Outcome.Set, NativeHeap.Apply(null));
        Assert.True(Tries(mapped: false) > 0, "every 2 MiB block got a mapping of its own: the mmap threshold was not set");
    }

    [Fact]
    public async Task The_host_logs_what_Apply_did_and_only_a_refusal_is_a_warning()
    {
        var outcome = NativeHeap.Apply(null);
        Assert.Equal(outcome, NativeHeap.Applied);
        Assert.Equal(OperatingSystem.IsLinux() ? NativeHeap.Outcome.Set : NativeHeap.Outcome.NotGlibc, outcome);
        Assert.Equal((false, "malloc thresholds set: trim 64 MiB, mmap 4 MiB"), NativeHeap.Describe(NativeHeap.Outcome.Set));
        Assert.Contains("GLIBC_TUNABLES", NativeHeap.Describe(NativeHeap.Outcome.LeftToTunables).Line);
        Assert.False(NativeHeap.Describe(NativeHeap.Outcome.NotGlibc).Warning);
        Assert.True(NativeHeap.Describe(NativeHeap.Outcome.Refused).Warning);

        using var db = new TempDatabase();
        var settings = new Dictionary<string, string?>(db.Settings())
        {
            ["Roster:Path"] = Path.Combine(RepoPaths.Root, "roster.sample.json"),
            ["Intake:HttpUrl"] = "http://127.0.0.1:0",
            ["Intake:TcpPort"] = "-1",
            ["Logging:LogLevel:Default"] = "Debug",
        };
        var logs = new CollectingLoggerProvider();
        await using var app = LarsbotHost.Build([], configFile: null, overrides: settings,
            services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        Assert.Contains(logs.Lines, l => l.Contains(NativeHeap.Describe(outcome).Line));
    }

    /// <summary>
    /// How many of three 2 MiB blocks were as <paramref name="mapped"/> says, by glibc's own count of bytes in blocks
    /// with a mapping of their own. Each try first takes up the free memory of this thread's arena
    /// (<see cref="TakeFreeMemory"/>), since malloc only weighs a mapping when the arena has no room. A thread
    /// allocating a big block at the same moment could move the count, so each try is independent and one clean try
    /// of three is enough.
    /// </summary>
    private static int Tries(bool mapped)
    {
        var seen = 0;
        for (var i = 0; i < 3; i++)
        {
            var taken = TakeFreeMemory();
            try
            {
                var before = mallinfo2().hblkhd;
                var block = Marshal.AllocHGlobal(2 << 20); // malloc on Unix
                try
                {
                    if ((mallinfo2().hblkhd - before >= 2 << 20) == mapped) seen++;
                }
                finally
                {
                    Marshal.FreeHGlobal(block);
                }
            }
            finally
            {
                foreach (var b in taken) Marshal.FreeHGlobal(b);
            }
        }
        return seen;
    }

    /// <summary>
    /// Takes 64 KiB blocks (under either threshold, so never mapped) until the arenas had to grow. Earlier tests in
    /// this process leave free memory in the arenas (a top kept by the 64 MiB trim threshold, freed big blocks), and
    /// malloc serves a 2 MiB block from there whatever the mmap threshold says: that made this test fail once in CI.
    /// malloc takes the best-fitting free chunk before the top and grows the arena last, so once it grew, this
    /// thread's arena has no free chunk of 64 KiB or more left, and a 2 MiB block has to be mapped or grown.
    /// </summary>
    private static List<nint> TakeFreeMemory()
    {
        var taken = new List<nint>();
        var system = mallinfo2().arena;
        while (mallinfo2().arena <= system)
        {
            if (taken.Count == 8192)
            {
                foreach (var b in taken) Marshal.FreeHGlobal(b);
                Assert.Fail("512 MiB of 64 KiB blocks and the arenas never grew");
            }
            taken.Add(Marshal.AllocHGlobal(64 << 10));
        }
        return taken;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

#pragma warning disable SYSLIB1054 // a struct of ten size_t: nothing to marshal
    [DllImport("libc.so.6", ExactSpelling = true)]
    private static extern MallInfo2 mallinfo2();
#pragma warning restore SYSLIB1054
}
