using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Quiz.Ranking.Tests;

/// <summary>
/// A real redis-server of its own on a free loopback port, without persistence, killed on
/// dispose. It can be stopped and started again on the same port (an outage: data is lost).
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    Process? process;
    public int Port { get; } = FreePort();
    public string Configuration => $"127.0.0.1:{Port},connectTimeout=2000";

    public Task InitializeAsync() => StartAsync();
    public Task DisposeAsync() => StopAsync();

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no" })
            start.ArgumentList.Add(a);
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed (apt-get install -y redis-server).", e);
        }
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (!await PingAsync())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(10) || process.HasExited)
                throw new InvalidOperationException($"redis-server did not answer PING on port {Port}.");
            await Task.Delay(20);
        }
    }

    public async Task StopAsync()
    {
        if (process is null) return;
        process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
        process = null;
    }

    /// <summary>SIGSTOP: Redis stays connected but answers nothing, as a stalled or swapping server would.</summary>
    public Task FreezeAsync() => SignalAsync("STOP");

    /// <summary>SIGCONT after <see cref="FreezeAsync"/>: Redis answers everything queued meanwhile.</summary>
    public Task ThawAsync() => SignalAsync("CONT");

    async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {process!.Id}");
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} failed");
    }

    async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var n = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG");
        }
        catch (SocketException) { return false; }
        catch (IOException) { return false; }
    }

    /// <summary>
    /// A free loopback port below Linux's ephemeral range (32768–60999). The OS never hands those
    /// out as the local port of an outgoing connection, so a server stopped and started again on
    /// the same port (the fault tests do) finds it still free, however many clients ran meanwhile.
    /// Only test processes draw from this range, each from its own slice (<see cref="Slice"/>),
    /// going round it: no port is handed out twice while the slice lasts.
    /// </summary>
    public static int FreePort()
    {
        var (from, count, _) = Slice;
        for (var i = 0; i < count; i++)
        {
            var port = from + (int)((uint)Interlocked.Increment(ref _next) % (uint)count);
            try
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return port;
            }
            catch (SocketException) { }
        }
        throw new InvalidOperationException($"no free loopback port between {from} and {from + count - 1}");
    }

    private const int RangeFrom = 20_000, RangeEnd = 32_768, Slices = 8;

    /// <summary>
    /// This process's part of the range. dotnet test runs the test assemblies side by side, and a
    /// port is bound seconds after it was picked (RabbitMQ after Erlang has booted, PostgreSQL after
    /// initdb): drawn at random from one range, another test process could pick and bind the same
    /// port meanwhile, and a whole collection failed with its broker (stop 27). Each process holds
    /// one of <see cref="Slices"/> slices through a lock file, which the OS releases when the
    /// process ends, however it ends.
    /// </summary>
    private static readonly (int From, int Count, FileStream? Lock) Slice = TakeSlice();
    private static int _next = Random.Shared.Next(1 << 20);

    private static (int From, int Count, FileStream? Lock) TakeSlice()
    {
        var size = (RangeEnd - RangeFrom) / Slices;
        var folder = Path.Combine(Path.GetTempPath(), "quiz-test-ports");
        Directory.CreateDirectory(folder);
        for (var slice = 0; slice < Slices; slice++)
        {
            try
            {
                var held = new FileStream(Path.Combine(folder, $"slice-{slice}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                return (RangeFrom + slice * size, size, held);
            }
            catch (IOException) { }
        }
        return (RangeFrom, RangeEnd - RangeFrom, null); // more test processes than slices: the whole range, as before
    }
}
