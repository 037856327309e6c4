using Microsoft.Extensions.Options;
using Quiz.Server.Campaigns;
using Quiz.Server.Units;

namespace Quiz.Server.Circulars;

/// <summary>
/// Issues the circulars of <see cref="CircularSchedule"/> when they fall due: every
/// <c>Circulars:CheckInterval</c> it looks at each campaign, and for each circular due (and not
/// longer ago than <c>Circulars:CatchUp</c>) it makes the DOCX and its annex for every province
/// and city office that has none yet and stores them (<see cref="IssuedCirculars"/>). What a look
/// misses (the node was down at 20:00, a unit's generation failed) the next look issues; what a
/// look issues, no later look or other node issues again (the store's unique key).
/// </summary>
public sealed class CircularScheduler(
    CampaignCatalog campaigns, UnitDirectory units, CircularService circulars, IssuedCirculars issued,
    IOptions<CircularOptions> options, TimeProvider clock, ILogger<CircularScheduler> logger) : BackgroundService
{
    private long _lookedAt = DateTimeOffset.MinValue.UtcTicks;

    /// <summary>
    /// The clock's time at the start of the last look that went through: everything due by then is
    /// issued. What a test waits on after moving the clock, instead of sleeping.
    /// </summary>
    public DateTimeOffset LookedAt => new(Interlocked.Read(ref _lookedAt), TimeSpan.Zero);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Schedule) return;
        await Task.Yield(); // the host's start goes on; the first look runs beside it
        using var timer = new PeriodicTimer(settings.CheckInterval, clock);
        do
        {
            var now = clock.GetUtcNow();
            try
            {
                await IssueDueAsync(now, stoppingToken);
                Interlocked.Exchange(ref _lookedAt, now.UtcTicks);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The store away: the next look issues what is due then, late rounds included.
                logger.LogWarning("Circulars due were not issued now; the next look tries again: {Reason}", e.Message);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Issues every circular due at <paramref name="now"/> that is not issued yet; how many this call wrote.</summary>
    public async Task<int> IssueDueAsync(DateTimeOffset now, CancellationToken ct = default)
    {
        var count = 0;
        foreach (var campaign in campaigns.All)
            foreach (var due in CircularSchedule.DueAt(campaign, options.Value, now))
                count += await IssueAsync(campaign, due, ct);
        return count;
    }

    /// <summary>The circular of one period for every office that has none yet.</summary>
    public async Task<int> IssueAsync(Campaign campaign, CircularSchedule.Due due, CancellationToken ct = default)
    {
        var done = await issued.UnitsIssuedAsync(campaign.Id, due.Kind, due.From, due.To, ct);
        var count = 0;
        var started = System.Diagnostics.Stopwatch.GetTimestamp(); // work done, not campaign time: the real clock
        foreach (var office in Offices().Where(o => !done.Contains(o.Code)))
        {
            try
            {
                var circular = await circulars.BuildAsync(campaign, office, due.From, due.To, ct);
                if (await issued.AddAsync(campaign.Id, due.Kind, office.Code, due.From, due.To, clock.GetUtcNow(),
                        CircularDocument.Docx(circular), CircularDocument.Xlsx(circular), ct))
                    count++;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("The {Kind} circular of {Unit} for {From}..{To} ({Campaign}) was not issued; the next look tries again: {Reason}",
                    CircularSchedule.Name(due.Kind), office.Code, due.From, due.To, campaign.Id, e.Message);
            }
        }
        if (count > 0)
            logger.LogInformation("Issued {Count} {Kind} circulars of {Campaign} for {From}..{To} in {Elapsed}",
                count, CircularSchedule.Name(due.Kind), campaign.Id, due.From, due.To, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        return count;
    }

    /// <summary>The offices a circular is issued for: every province and city with regions below it to rank (as on demand).</summary>
    public IEnumerable<Region> Offices() =>
        units.Regions.Where(r => r.Depth < 3 && units.Children(r.Code).Count > 0).OrderBy(r => r.Code, StringComparer.Ordinal);
}
