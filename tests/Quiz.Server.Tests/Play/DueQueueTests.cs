using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Quiz.Server.Play;

namespace Quiz.Server.Tests.Play;

/// <summary>Many due times on one timer: each item once, at its time and never before, in order.</summary>
public sealed class DueQueueTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-06-12T10:00:00+08:00"));
    private readonly ConcurrentQueue<string> _fired = new();

    private DueQueue<string> Queue() => new(_clock, _fired.Enqueue);

    [Fact]
    public void EachItemFiresOnceAtItsDueTimeInTheOrderOfTheirTimes()
    {
        using var queue = Queue();
        var start = _clock.GetUtcNow();
        queue.Add("c", start.AddSeconds(30));
        queue.Add("a", start.AddSeconds(10));
        queue.Add("b", start.AddSeconds(20)); // later than the armed one: the timer stays
        queue.Add("a2", start.AddSeconds(10)); // the same instant as another

        _clock.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(1));
        Assert.Empty(_fired);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["a", "a2"], _fired.Order());
        Assert.Equal(2, queue.Count);

        _clock.Advance(TimeSpan.FromSeconds(15)); // past b, before c
        Assert.Equal(["a", "a2", "b"], _fired.Order());
        _clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(["a", "a2", "b", "c"], _fired.ToArray().Order());
        Assert.Equal(0, queue.Count);
        _clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(4, _fired.Count); // each once
    }

    [Fact]
    public void AnEarlierItemAddedLaterArmsTheTimerForItsOwnTime()
    {
        using var queue = Queue();
        var start = _clock.GetUtcNow();
        queue.Add("late", start.AddMinutes(2));
        queue.Add("soon", start.AddSeconds(1));

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["soon"], _fired);
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(["soon", "late"], _fired);
    }

    [Fact]
    public void AnItemAlreadyDueFiresOnTheTimerNotInsideAdd()
    {
        using var queue = Queue();
        queue.Add("past", _clock.GetUtcNow().AddSeconds(-5));
        Assert.Empty(_fired); // a fake clock fires a zero wait inside the call that arms it
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["past"], _fired);
    }

    [Fact]
    public void AnItemYearsAwayWaitsOnTheRealTimerAndFiresWhenItsTimeComes()
    {
        // The real timer takes at most ~49 days; tests that move the server's date leave items years away.
        using (var real = new DueQueue<string>(TimeProvider.System, _fired.Enqueue))
        {
            real.Add("far", DateTimeOffset.UtcNow.AddDays(1000));
            Assert.Equal(1, real.Count);
        }
        using var queue = Queue();
        queue.Add("far", _clock.GetUtcNow().AddDays(1000));
        _clock.Advance(TimeSpan.FromDays(999));
        Assert.Empty(_fired);
        _clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(["far"], _fired);
    }

    [Fact]
    public void ADisposedQueueFiresNothingAndTakesNothing()
    {
        var queue = Queue();
        queue.Add("x", _clock.GetUtcNow().AddSeconds(1));
        queue.Dispose();
        queue.Add("y", _clock.GetUtcNow().AddSeconds(2));
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Empty(_fired);
        Assert.Equal(0, queue.Count);
    }
}
