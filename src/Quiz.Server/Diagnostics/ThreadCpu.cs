using Microsoft.Win32.SafeHandles;

namespace Quiz.Server.Diagnostics;

/// <summary>
/// CPU time one thread has used, and its time runnable but not running (Linux's schedstat).
/// Set against the wall time of the same piece of work, they tell computing from waiting for a
/// core from waiting on anything else (I/O, a lock). Opened once on the thread it measures
/// (<c>/proc/thread-self</c> names the opener) and read again in place: the store writer reads it
/// twice a batch.
/// </summary>
public sealed class ThreadCpu : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly byte[] _text = new byte[96];

    private ThreadCpu(SafeFileHandle file) => _file = file;

    /// <summary>The calling thread's counters, or null where they cannot be read.</summary>
    public static ThreadCpu? OfCurrentThread()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try { return new ThreadCpu(File.OpenHandle("/proc/thread-self/schedstat")); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>The thread's CPU time and its time runnable but waiting for a core (nanoseconds in the file), or null where unreadable.</summary>
    public (TimeSpan Cpu, TimeSpan RunQueue)? Read()
    {
        try
        {
            var text = _text.AsSpan(0, RandomAccess.Read(_file, _text, 0));
            var space = text.IndexOf((byte)' ');
            var rest = text[(space + 1)..];
            var end = rest.IndexOf((byte)' ');
            if (space < 0 || end < 0
                || !System.Buffers.Text.Utf8Parser.TryParse(text[..space], out long cpu, out _)
                || !System.Buffers.Text.Utf8Parser.TryParse(rest[..end], out long waited, out _))
                return null;
            return (TimeSpan.FromTicks(cpu / 100), TimeSpan.FromTicks(waited / 100));
        }
        catch (IOException) { return null; }
    }

    public void Dispose() => _file.Dispose();
}
