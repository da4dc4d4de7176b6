using Larsbot.Setup;

namespace Larsbot.Storage;

/// <summary>
/// One bot per SQLite file. A SQLite instance always leads (Leadership's Role.Sole), so two `larsbot run` on one file
/// would both count down, both page and both answer in the channel: every page twice. The bot holds an exclusive lock
/// on <c>&lt;file&gt;.lock</c> for as long as it runs (flock, which .NET takes for <see cref="FileShare.None"/>), and a
/// second bot refuses to start, naming the file and the process that holds it, before it migrates anything (a newer
/// version must not change the schema under the one running). Taken for `larsbot run` only
/// (<see cref="StorageOptions.HoldInstanceLock"/>); the database keeps it until it is disposed with the host.
/// The kernel drops the lock when its process ends, however it ends (kill -9, the OOM killer), so a restart never
/// finds a stale one. Nothing else takes it: `larsbot payout`, `ledger verify` and sqlite3 still open the file beside
/// the bot. PostgreSQL needs none: there the lease decides who leads.
/// </summary>
public sealed class SoleInstanceLock : IDisposable
{
    private readonly FileStream _held;

    private SoleInstanceLock(FileStream held, string path)
    {
        _held = held;
        Path = path;
    }

    /// <summary>The lock file: the database's path with ".lock" added.</summary>
    public string Path { get; }

    /// <summary>Takes the lock for <paramref name="db"/>'s file (null on PostgreSQL), or refuses with who holds it.</summary>
    /// <exception cref="StartupException">Another process (or another host in this one) holds it.</exception>
    public static SoleInstanceLock? Take(Database db)
    {
        if (db.IsPostgres) return null;
        var path = db.Path + ".lock";
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (File.Exists(path) && e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new StartupException(
                $"another larsbot is already running on {db.Path}{Holder(path)}: a SQLite file has one bot, or every page " +
                $"would go out twice. Stop that one first (it holds {path}), or run a leader and a standby on PostgreSQL");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another user's file (a bot once started as root), not a file at all, or no folder for it.
            throw new StartupException($"cannot open {path}, which the bot holds while it runs: {e.Message.TrimEnd('.')}. " +
                "It must be a file the bot's user can write, like the database beside it");
        }
        // Who holds it, for the refusal above and for an operator's `cat`; the lock is the flock, not this text.
        file.SetLength(0);
        var text = System.Text.Encoding.UTF8.GetBytes(
            $"pid {Environment.ProcessId} since {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}Z\n");
        file.Write(text);
        file.Flush();
        return new SoleInstanceLock(file, path);
    }

    /// <summary>
    /// " (pid N since …)" from the lock file, else nothing. Read with open(2) itself: .NET takes a shared flock to read
    /// a file, which the holder's exclusive one refuses.
    /// </summary>
    private static string Holder(string path)
    {
        var fd = OpenReadOnly(System.Text.Encoding.UTF8.GetBytes(path + "\0"), 0 /* O_RDONLY */);
        if (fd < 0) return "";
        try
        {
            var buffer = new byte[200];
            var n = ReadFile(fd, buffer, buffer.Length);
            var text = n > 0 ? System.Text.Encoding.UTF8.GetString(buffer, 0, (int)n).Split('\n')[0].Trim() : "";
            return text.StartsWith("pid ", StringComparison.Ordinal) ? $" ({text})" : "";
        }
        finally
        {
            CloseFile(fd);
        }
    }

#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code enabled for three blittable calls
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "open")]
    private static extern int OpenReadOnly(byte[] path, int flags);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "read")]
    private static extern nint ReadFile(int fd, byte[] buffer, nint count);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "close")]
    private static extern int CloseFile(int fd);
#pragma warning restore SYSLIB1054

    public void Dispose() => _held.Dispose();
}
