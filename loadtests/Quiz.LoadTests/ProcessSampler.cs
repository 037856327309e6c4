using System.Diagnostics;

namespace Quiz.LoadTests;

/// <summary>
/// Samples a process's CPU (utime + stime from /proc/PID/stat) and resident memory (VmRSS and
/// VmHWM from /proc/PID/status) once a second. CPU is in % of one core: 200 % is both cores here.
/// </summary>
public sealed class ProcessSampler : IAsyncDisposable
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux
    private readonly int _pid;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<Sample> _samples = [];
    private readonly Lock _lock = new();

    public ProcessSampler(string name, int pid)
    {
        Name = name;
        _pid = pid;
        _loop = Task.Run(LoopAsync);
    }

    public string Name { get; }

    public sealed record Sample(DateTimeOffset At, double CpuPercent, long RssBytes, long PeakRssBytes, int Threads);

    private async Task LoopAsync()
    {
        var last = Read();
        var lastAt = Stopwatch.GetTimestamp();
        // Bounded: one sample a second for at most 24 hours.
        for (var i = 0; i < 86_400 && !_stop.IsCancellationRequested && last is not null; i++)
        {
            try { await Task.Delay(1000, _stop.Token); } catch (OperationCanceledException) { break; }
            var now = Read();
            if (now is null) break;
            var at = Stopwatch.GetTimestamp();
            var cpu = (now.Value.CpuTicks - last.Value.CpuTicks) / TicksPerSecond / Stopwatch.GetElapsedTime(lastAt, at).TotalSeconds * 100;
            lock (_lock) _samples.Add(new Sample(DateTimeOffset.UtcNow, Math.Round(cpu, 1), now.Value.Rss, now.Value.Hwm, now.Value.Threads));
            (last, lastAt) = (now, at);
        }
    }

    private (long CpuTicks, long Rss, long Hwm, int Threads)? Read()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{_pid}/stat");
            // Fields after the command name (which may hold spaces) start after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11]) + long.Parse(fields[12]); // utime, stime (fields 14 and 15)
            long rss = 0, hwm = 0;
            var threads = 0;
            foreach (var line in File.ReadLines($"/proc/{_pid}/status"))
            {
                if (line.StartsWith("VmRSS:")) rss = Kb(line);
                else if (line.StartsWith("VmHWM:")) hwm = Kb(line);
                else if (line.StartsWith("Threads:")) threads = int.Parse(line[8..].Trim());
            }
            return (ticks, rss, hwm, threads);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return null; }
    }

    /// <summary>
    /// The time <paramref name="pid"/>'s threads have spent on a CPU and waiting in a run queue for
    /// one, in ms (each /proc/PID/task/TID/schedstat, in ns, summed; /proc/PID/stat counts 10 ms
    /// ticks, too coarse for a 200 ms window). A thread that ends between two reads leaves the sum,
    /// so a difference can fall short by what it used. Null where the kernel keeps no schedstat.
    /// </summary>
    public static (double OnCpuMs, double WaitingMs)? Schedstat(int pid)
    {
        try
        {
            long onCpu = 0, waiting = 0;
            var read = 0;
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                string text;
                try { text = File.ReadAllText(Path.Combine(task, "schedstat")); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; } // the thread ended, or no schedstat
                var fields = text.Split(' ');
                onCpu += long.Parse(fields[0]);
                waiting += long.Parse(fields[1]);
                read++;
            }
            return read == 0 ? null : (onCpu / 1e6, waiting / 1e6);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return null; }
    }

    private static long Kb(string line) => long.Parse(line.Split(':')[1].Trim().Split(' ')[0]) * 1024;

    /// <summary>CPU and memory between two instants (a phase of the run).</summary>
    public ResourceFigures Figures(DateTimeOffset from, DateTimeOffset to)
    {
        List<Sample> window;
        lock (_lock) window = _samples.Where(s => s.At >= from && s.At <= to).ToList();
        if (window.Count == 0) return new ResourceFigures(Name, _pid, 0, 0, 0, 0, 0, 0);
        return new ResourceFigures(Name, _pid, window.Count,
            Math.Round(window.Average(s => s.CpuPercent), 1), window.Max(s => s.CpuPercent),
            Mb(window.Last().RssBytes), Mb(window.Max(s => s.RssBytes)), Mb(window.Max(s => s.PeakRssBytes)));
    }

    private static double Mb(long bytes) => Math.Round(bytes / 1048576.0, 1);

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop;
        _stop.Dispose();
    }
}

/// <summary>CPU in % of one core (average and highest 1-second sample), resident memory in MiB (last, highest sampled, kernel's high-water mark).</summary>
public sealed record ResourceFigures(string Process, int Pid, int Samples, double CpuAvgPercent, double CpuMaxPercent, double RssLastMb, double RssMaxMb, double RssHighWaterMb);
