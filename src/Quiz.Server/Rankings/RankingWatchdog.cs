using Quiz.Ranking;
using Quiz.Server.Campaigns;

namespace Quiz.Server.Rankings;

/// <summary>
/// Keeps every campaign's boards whole without anyone running a rebuild (rule 8: projections
/// catch themselves up from the store). It looks every <c>Ranking:CheckInterval</c> (5 s), at
/// once when the engine asks for a catch-up, when Redis comes back, and when campaigns change; per
/// campaign it rebuilds from the store when the engine asked for it (a finish that failed or timed
/// out), when the campaign's keys are gone (Redis restarted empty), or when the engine has applied
/// fewer rounds than the store held at the previous look (a node died between a commit and its
/// ranking). That last test is one-sided under load (later rounds can hide a missing earlier one
/// until play quietens), and exact at start-up and in quiet moments. (Units' figures are the
/// store's own projection, which catches itself up: <see cref="UnitStandings"/>.)
/// </summary>
public sealed class RankingWatchdog(
    IRankingEngine engine, RankingService rankings, RankingStore store, CampaignCatalog campaigns,
    IConfiguration configuration, ILogger<RankingWatchdog> logger) : BackgroundService
{
    private readonly System.Threading.Channels.Channel<bool> _wake = System.Threading.Channels.Channel.CreateBounded<bool>(
        new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<string, (long Count, long MaxId)> _storedAtLastLook = new(StringComparer.Ordinal);

    /// <summary>Look now rather than at the next interval.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = configuration.GetValue("Ranking:CheckInterval", TimeSpan.FromSeconds(5));
        engine.CatchUpNeeded += _ => Wake();
        engine.Reconnected += Wake;
        campaigns.Changed += Wake;
        while (!stoppingToken.IsCancellationRequested)
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
            {
                timeout.CancelAfter(interval);
                try { await _wake.Reader.ReadAsync(timeout.Token); }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested) { }
            }
            if (stoppingToken.IsCancellationRequested) break;
            foreach (var campaign in campaigns.All)
            {
                try { await LookAsync(campaign.Id, stoppingToken); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning("Rankings of {Campaign} not checked: {Reason}", campaign.Id, e.Message);
                }
            }
        }
    }

    private async Task LookAsync(string campaignId, CancellationToken ct)
    {
        var health = await engine.CheckAsync(campaignId, ct);
        if (!health.Reachable) return; // the next look, or the reconnect, tries again
        // Another node is rebuilding the campaign: its rebuild writes every round stored until it
        // ends, and a second one beside it would delete the keys the first writes. Unless this
        // node missed rounds itself (its finishes answer pending until its own catch-up, which
        // waits for that hold), look again once it is over.
        if (health.Held && !engine.NeedsCatchUp(campaignId)) return;

        // Counted from the last look's highest id on: a look costs the rounds since, not a count
        // of the whole campaign every few seconds.
        var before = _storedAtLastLook.GetValueOrDefault(campaignId, (Count: -1L, MaxId: 0L));
        var (added, maxId) = await store.CountAsync(campaignId, before.MaxId, ct);
        var storedBefore = before.Count;
        var storedNow = Math.Max(storedBefore, 0) + added;
        _storedAtLastLook[campaignId] = (storedNow, Math.Max(maxId, before.MaxId));
        // Keys are "gone" only if rounds were already stored at an earlier look (never at the first):
        // a campaign's first rounds are committed before their finish writes its keys, and a look
        // in between read that as lost keys and rebuilt, answering those players rankPending (two
        // CI runs, the second on a node's first look). A node started on a Redis that came back
        // empty is caught up by its start-up load (RankingService.LoadAsync), not by this look.
        var reason = engine.NeedsCatchUp(campaignId) ? "it missed rounds"
            : !health.KeysPresent && storedNow > 0 && storedBefore > 0 ? "its keys are gone"
            : storedBefore >= 0 && health.AppliedRounds < storedBefore ? $"{health.AppliedRounds} rounds applied, the store had {storedBefore}"
            : null;
        if (reason is null) return;

        logger.LogWarning("Rankings of {Campaign} are caught up from the store: {Reason}", campaignId, reason);
        var report = await RankingCatchUp.RunAsync(engine, campaignId, rankings.RoundsForRebuild(campaignId, storedNow, progress: null, ct), TimeSpan.FromSeconds(2), ct);
        logger.LogInformation("Rankings of {Campaign} caught up: {Rounds} rounds{How}", campaignId, report.Rounds,
            report.Covered ? ", those after another node's rebuild, which had read the rounds this node missed" : ", the campaign rebuilt");
    }
}
