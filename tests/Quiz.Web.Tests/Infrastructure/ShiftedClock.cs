namespace Quiz.Web.Tests.Infrastructure;

/// <summary>
/// The real clock moved to another date, so a season's sample campaign is open: time flows, and
/// timers (round deadlines, the server's background checks) fire as they would, only the date is
/// the season's. The one stand-in these tests use; the page's own clock is moved with Playwright's.
/// </summary>
public sealed class ShiftedClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    /// <summary>
    /// Moves the server to <paramref name="instant"/> (it then runs on from there) until the
    /// returned scope ends. Tests of the site's collection run one at a time, so one test's date
    /// never leaks into another's.
    /// </summary>
    public IDisposable TravelTo(DateTimeOffset instant)
    {
        Interlocked.Exchange(ref _offsetTicks, (instant - base.GetUtcNow()).Ticks);
        return new Back(this);
    }

    private sealed class Back(ShiftedClock clock) : IDisposable
    {
        public void Dispose() => Interlocked.Exchange(ref clock._offsetTicks, 0);
    }
}
