using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Quiz.LoadTests;

/// <summary>
/// A thread a core, each waiting on its share of the phones' sockets at once (Linux epoll,
/// level-triggered) and handing each socket with something to read to its <see cref="RawHub"/>.
/// The generator shares the machine's two cores with the server it measures: with a pending async
/// receive a phone, every frame the server sent cost the generator an event-thread wake, a
/// thread-pool hop, a failed second read, <c>ManagedWebSocket</c>'s and the HTTP stream's state
/// machines and a <c>JsonDocument</c>, ~16–20 µs of CPU while 10,000 phones got a question (perf,
/// BENCHMARKS.md).
/// Here a frame costs one <c>recv</c> and a scan, and 10,000 arrivals need a few wakes, not 10,000.
/// One thread for every phone left the second core idle at the end of a fan-out, while that thread
/// read the frames that had waited in the sockets (BENCHMARKS.md, "The phones' epoll on both
/// cores"): a real audience reads on 10,000 phones at once. A socket stays with one thread, so a
/// hub's events never run on two at a time. <c>QUIZ_PHONES_EPOLL_THREADS</c> sets the count
/// (default: the machine's cores). Linux only, as the load tests are.
/// </summary>
static class Epoll
{
    private const int EpollCtlAdd = 1, EpollCtlMod = 3;
    public const uint In = 0x001, Out = 0x004, Err = 0x008, Hup = 0x010, RdHup = 0x2000;
    private const int EIntr = 4;
    // glibc by its soname: "libc" alone may resolve to libc.so, which is a linker script where
    // libc6-dev is installed and absent where it is not.
    private const string LibC = "libc.so.6";

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct Event
    {
        public uint Events;
        public ulong Data;
    }

    [DllImport(LibC, SetLastError = true)] private static extern int epoll_create1(int flags);
    [DllImport(LibC, SetLastError = true)] private static extern int epoll_ctl(int epfd, int op, int fd, ref Event ev);
    [DllImport(LibC, SetLastError = true)] private static extern unsafe int epoll_wait(int epfd, Event* events, int maxEvents, int timeout);

    private static readonly ConcurrentDictionary<ulong, RawHub> Hubs = new();
    private static readonly Lazy<int[]> Instances = new(Start);
    private static long _nextId;

    /// <summary>
    /// Watches <paramref name="socket"/> for <paramref name="events"/> on behalf of the hub that
    /// <paramref name="id"/> names (from <see cref="Reserve"/>: the hub knows its id before its
    /// first event, which may come before this returns).
    /// </summary>
    public static void Add(Socket socket, ulong id, uint events)
    {
        var ev = new Event { Events = events, Data = id };
        if (epoll_ctl(Of(id), EpollCtlAdd, Fd(socket), ref ev) != 0) throw new SocketException(Marshal.GetLastPInvokeError());
    }

    /// <summary>An id for <paramref name="hub"/>'s events.</summary>
    public static ulong Reserve(RawHub hub)
    {
        var id = (ulong)Interlocked.Increment(ref _nextId);
        Hubs[id] = hub;
        return id;
    }

    public static void Change(Socket socket, ulong id, uint events)
    {
        var ev = new Event { Events = events, Data = id };
        if (epoll_ctl(Of(id), EpollCtlMod, Fd(socket), ref ev) != 0) throw new SocketException(Marshal.GetLastPInvokeError());
    }

    /// <summary>
    /// Drops the hub's id before its socket closes (closing takes the socket out of the set): an
    /// event already taken for it finds no hub and is dropped.
    /// </summary>
    public static void Forget(ulong id) => Hubs.TryRemove(id, out _);

    private static int Fd(Socket socket) => (int)socket.SafeHandle.DangerousGetHandle();

    /// <summary>The epoll instance of a hub's socket: ids are handed out in turn, so the phones spread evenly.</summary>
    private static int Of(ulong id)
    {
        var instances = Instances.Value;
        return instances[(int)(id % (ulong)instances.Length)];
    }

    private static int[] Start()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("QUIZ_PHONES_EPOLL_THREADS"), out var n) && n > 0 ? n : Environment.ProcessorCount;
        var instances = new int[count];
        for (var i = 0; i < count; i++)
        {
            var epoll = epoll_create1(0);
            if (epoll < 0) throw new SocketException(Marshal.GetLastPInvokeError());
            new Thread(() => Run(epoll)) { IsBackground = true, Name = $"phones' epoll {i}" }.Start();
            instances[i] = epoll;
        }
        return instances;
    }

    private static unsafe void Run(int epoll)
    {
        const int Batch = 512;
        var events = stackalloc Event[Batch];
        while (true)
        {
            var n = epoll_wait(epoll, events, Batch, 1000);
            if (n < 0)
            {
                if (Marshal.GetLastPInvokeError() == EIntr) continue;
                throw new SocketException(Marshal.GetLastPInvokeError());
            }
            for (var i = 0; i < n; i++)
                if (Hubs.TryGetValue(events[i].Data, out var hub)) hub.OnEvents(events[i].Events);
        }
    }
}
