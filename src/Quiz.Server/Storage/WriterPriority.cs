using System.Runtime.InteropServices;

namespace Quiz.Server.Storage;

/// <summary>
/// The store writer's thread asks Linux for real-time round-robin scheduling (SCHED_RR, the lowest
/// real-time priority). Every start, finish and registration waits for that one thread, and in the
/// opening burst it shared two cores with a hundred runnable pool threads: issue 12's measurement
/// found it runnable but not running for 70 % of its batches' time (30.9 s of 44.8 s); with SCHED_RR
/// 0.05 s, and its batches took half as long. It blocks between batches (the queue, the fsync), so
/// it cannot take a core from the rest for long; the kernel's real-time throttling bounds it anyway.
/// Needs root or CAP_SYS_NICE (systemd: <c>AmbientCapabilities=CAP_SYS_NICE</c>); without them the
/// writer runs at normal priority and the log says so once.
/// </summary>
internal static class WriterPriority
{
    private const int SchedRoundRobin = 2;
    private const long GettidX64 = 186, GettidArm64 = 178;

    [DllImport("libc", SetLastError = true)] private static extern long syscall(long number);
    [DllImport("libc", SetLastError = true)] private static extern int sched_setscheduler(int pid, int policy, ref int priority);

    /// <summary>Raises the calling thread; what it got, in words, for the log.</summary>
    public static string Raise()
    {
        if (!OperatingSystem.IsLinux()) return "normal priority (real-time scheduling is asked for on Linux only)";
        var gettid = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => GettidX64,
            Architecture.Arm64 => GettidArm64,
            _ => 0,
        };
        if (gettid == 0) return $"normal priority (no thread id call known for {RuntimeInformation.ProcessArchitecture})";
        try
        {
            var priority = 1;
            return sched_setscheduler((int)syscall(gettid), SchedRoundRobin, ref priority) == 0
                ? "real-time round-robin scheduling (SCHED_RR 1)"
                : $"normal priority: real-time scheduling refused (errno {Marshal.GetLastPInvokeError()}; it needs root or CAP_SYS_NICE)";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return $"normal priority ({e.GetType().Name})";
        }
    }
}
