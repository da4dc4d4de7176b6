using System.Text;

namespace Larsbot.Tests.Fuzz;

/// <summary>Seeded generators of hostile input: invalid UTF-8, NULs, control and formatting codes, huge runs.</summary>
internal static class FuzzInputs
{
    private static readonly string[] Nasty =
    [
        "\0", "\r", "\n", "\r\n", "\u0001", "\u0002", "\u0003", "\u00034,12", "\u000f", "\u0016", "\u001d", "\u001f", "\u001e", "\u0011",
        "\u0004ff00ff", "\uFEFF", "\u2028", "\u202e", "😀", "é", "%00", "%0d%0a", "%ff", "&", "=", "+", "{", "}", "\"", "\\", ":", " ",
        "PRIVMSG #ops :x", "QUIT :x", "urgent", "irc", "info", "host", "message", "level",
    ];

    public static byte[] Bytes(Random r, int max)
    {
        var n = r.Next(0, max);
        var b = new byte[n];
        r.NextBytes(b);
        return b;
    }

    public static string Text(Random r, int maxParts)
    {
        var sb = new StringBuilder();
        var parts = r.Next(0, maxParts);
        for (var i = 0; i < parts; i++)
        {
            switch (r.Next(4))
            {
                case 0: sb.Append(Nasty[r.Next(Nasty.Length)]); break;
                case 1: sb.Append((char)r.Next(0, 0x80)); break;
                case 2: sb.Append((char)r.Next(0xD7FF, 0xE001)); break; // lone surrogates included
                default: sb.Append("w").Append(r.Next(1000)); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>The process's managed heap after a full collection, and its working set, in MB.</summary>
    public static (double HeapMb, double WorkingSetMb) Memory()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var p = System.Diagnostics.Process.GetCurrentProcess();
        return (GC.GetTotalMemory(false) / 1048576.0, p.WorkingSet64 / 1048576.0);
    }
}
