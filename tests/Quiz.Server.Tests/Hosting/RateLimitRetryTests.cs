using System.Threading.RateLimiting;
using Quiz.Server.Hosting;

namespace Quiz.Server.Tests.Hosting;

/// <summary>
/// The partitioned limiter's race (dotnet/runtime#99865): its idle sweep disposes a partition's
/// limiter between a caller's lookup and its acquire. The runtime's sweep runs on its own clock
/// (10 s idle), so the race is played here by a limiter whose partition is disposed under the
/// first attempt, as the runtime's is, and found fresh by the next.
/// </summary>
public sealed class RateLimitRetryTests
{
    /// <summary>Each partition: a real fixed window, the first made of which is disposed as the sweep would.</summary>
    private sealed class SweptUnderTheCaller(int disposedAttempts) : PartitionedRateLimiter<string>
    {
        private readonly FixedWindowRateLimiter _fresh = new(new() { PermitLimit = 1, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
        public int Attempts { get; private set; }

        protected override RateLimitLease AttemptAcquireCore(string resource, int permitCount) =>
            ++Attempts <= disposedAttempts ? throw new ObjectDisposedException(nameof(FixedWindowRateLimiter)) : _fresh.AttemptAcquire(permitCount);

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(string resource, int permitCount, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public override RateLimiterStatistics? GetStatistics(string resource) => _fresh.GetStatistics();

        protected override void Dispose(bool disposing) => _fresh.Dispose();
    }

    [Fact]
    public void AnAttemptOnAPartitionDisposedUnderItIsMadeAgainAndCountsOnce()
    {
        using var limiter = new SweptUnderTheCaller(disposedAttempts: 1);
        using (var lease = limiter.AttemptAcquireRetried("13800000000")) Assert.True(lease.IsAcquired);
        Assert.Equal(2, limiter.Attempts);
        // The permit was taken once: the window's one permit is gone.
        using (var second = limiter.AttemptAcquireRetried("13800000000")) Assert.False(second.IsAcquired);
    }

    [Fact]
    public void ALimiterThatStaysDisposedIsNotTriedForEver()
    {
        using var limiter = new SweptUnderTheCaller(disposedAttempts: int.MaxValue);
        Assert.Throws<ObjectDisposedException>(() => limiter.AttemptAcquireRetried("13800000000"));
        Assert.Equal(3, limiter.Attempts);
    }
}
