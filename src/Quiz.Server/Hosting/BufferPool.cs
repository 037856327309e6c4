namespace Quiz.Server.Hosting;

/// <summary>
/// How many buffers of a size the shared <see cref="System.Buffers.ArrayPool{T}"/> keeps. SignalR
/// writes each message into a pipe of the connection whose buffers come from that pool and stay
/// rented until the connection's send loop has sent them, so a question shown to a live room of
/// 10,000 phones rents 10,000 buffers at once. By default the pool keeps 32 a size per core and
/// drops the rest when they come back: ~40 MB of garbage a show, collected in the middle of the next
/// fan-out (BENCHMARKS.md, "The buffer pool and the answers of a reveal"). Kept, they are reused by
/// the next show. The pool keeps only what was once rented at the same time, and gives back what
/// stays unused under memory pressure.
/// </summary>
public static class BufferPool
{
    /// <summary>The runtime's own knob, read once, when the pool is first used.</summary>
    public const string Variable = "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION";

    /// <summary>Enough for a room of 10,000 phones on two cores and more on larger machines.</summary>
    public const int ArraysPerCore = 8192;

    /// <summary>Must run first in Main, before anything rents a buffer; an operator's own value wins.</summary>
    public static void KeepEnoughForALiveRoom()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
            Environment.SetEnvironmentVariable(Variable, ArraysPerCore.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
