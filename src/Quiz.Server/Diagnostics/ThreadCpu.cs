using System.Runtime.InteropServices;

namespace Quiz.Server.Diagnostics;

/// <summary>
/// CPU time the calling thread has used (Linux: getrusage(RUSAGE_THREAD)). Set against the wall
/// time of the same piece of work, it tells computing from waiting for a core: the store writer
/// on a busy machine spends most of a batch runnable but not running.
/// </summary>
public static class ThreadCpu
{
    [StructLayout(LayoutKind.Sequential)]
    private struct TimeVal { public long Seconds; public long Microseconds; }

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public TimeVal User;
        public TimeVal System;
        // The remaining fields (14 longs) are not read.
        private long _0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13;
    }

    private const int RusageThread = 1;

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, out RUsage usage);

    private static readonly bool Supported = OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    /// <summary>The calling thread's user plus system time, or null where it cannot be read.</summary>
    public static TimeSpan? Now()
    {
        if (!Supported) return null;
        try
        {
            if (getrusage(RusageThread, out var u) != 0) return null;
            return TimeSpan.FromMicroseconds((u.User.Seconds + u.System.Seconds) * 1_000_000L + u.User.Microseconds + u.System.Microseconds);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return null; }
    }
}
