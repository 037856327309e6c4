namespace Quiz.Server.Play;

/// <summary>
/// Items that fall due at given times, on one timer: a heap ordered by due time, and the timer
/// armed for the earliest. It stands in for a timer an item (a round's deadline, a finished
/// round's stay in memory). Why: in sustained play (1,000 rounds a second) a node held ~37,000
/// timers, which the runtime walks three times a second, and each a few objects for the garbage
/// collector: with one timer, 1.4 % fewer of the server's samples in the timers and a quarter less
/// time paused for collections (BENCHMARKS.md, "One timer for the rounds' deadlines").
/// <para>
/// An item cannot be taken out before it is due (a round finished early leaves its deadline in
/// the heap): its action looks up whether there is still anything to do, so an item should be a
/// key (a round id), not what the key names, which the heap would keep in memory.
/// </para>
/// </summary>
public sealed class DueQueue<T> : IDisposable
{
    private readonly PriorityQueue<T, DateTimeOffset> _items = new();
    private readonly Lock _gate = new();
    private readonly TimeProvider _clock;
    private readonly Action<T> _due;
    private readonly ITimer _timer;
    /// <summary>When the timer fires next; <see cref="DateTimeOffset.MaxValue"/> when it is not armed.</summary>
    private DateTimeOffset _armed = DateTimeOffset.MaxValue;
    private bool _disposed;

    /// <param name="due">Called once for each item at or after its due time, on a timer thread; it must not throw.</param>
    public DueQueue(TimeProvider clock, Action<T> due)
    {
        _clock = clock;
        _due = due;
        _timer = clock.CreateTimer(static queue => ((DueQueue<T>)queue!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Items not yet due.</summary>
    public int Count
    {
        get { lock (_gate) return _items.Count; }
    }

    public void Add(T item, DateTimeOffset due)
    {
        lock (_gate)
        {
            if (_disposed) return;
            _items.Enqueue(item, due);
            if (due < _armed) Arm(due);
        }
    }

    /// <summary>
    /// The longest wait the timer is given. A clock moved (an operator's correction, or tests that
    /// shift the server's date and back) can put the next item years away, past the most a timer
    /// takes (~49 days), which would throw on the timer's thread and end the process. Firing with
    /// nothing due only arms the timer again.
    /// </summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromHours(1);

    /// <summary>Under the gate. Never a zero wait: a fake clock would fire the timer inside this call.</summary>
    private void Arm(DateTimeOffset due)
    {
        _armed = due;
        var wait = due - _clock.GetUtcNow();
        _timer.Change(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait > LongestWait ? LongestWait : wait,
            Timeout.InfiniteTimeSpan);
    }

    private void Fire()
    {
        List<T>? ready = null;
        lock (_gate)
        {
            if (_disposed) return;
            // The timer may fire a millisecond early (its clock is not the wall clock): what is not
            // due yet waits for the timer armed again below.
            var now = _clock.GetUtcNow();
            while (_items.TryPeek(out var item, out var due) && due <= now)
            {
                _items.Dequeue();
                (ready ??= []).Add(item);
            }
            _armed = DateTimeOffset.MaxValue;
            if (_items.TryPeek(out _, out var next)) Arm(next);
        }
        if (ready is null) return;
        foreach (var item in ready) _due(item);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _items.Clear();
        }
        _timer.Dispose();
    }
}
