namespace Quiz.Server.Diagnostics;

/// <summary>
/// CPU time the calling thread has used, and its time runnable but not running (Linux's schedstat).
/// Set against the wall time of the same piece of work, they tell computing from waiting for a
/// core from waiting on anything else (I/O, a lock).
/// </summary>
public static class ThreadCpu
{
    private static readonly bool Supported = OperatingSystem.IsLinux() && File.Exists("/proc/thread-self/schedstat");

    /// <summary>
    /// The calling thread's CPU time and the time it has spent runnable but waiting for a core
    /// (Linux's /proc/thread-self/schedstat, in nanoseconds), or null where it cannot be read.
    /// </summary>
    public static (TimeSpan Cpu, TimeSpan RunQueue)? Sched()
    {
        if (!Supported) return null;
        try
        {
            Span<byte> text = stackalloc byte[96];
            using var file = File.OpenHandle("/proc/thread-self/schedstat");
            var length = RandomAccess.Read(file, text, 0);
            var fields = System.Text.Encoding.ASCII.GetString(text[..length]).Split(' ');
            return (TimeSpan.FromTicks(long.Parse(fields[0]) / 100), TimeSpan.FromTicks(long.Parse(fields[1]) / 100));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { return null; }
    }
}
