namespace Quiz.Ranking;

/// <summary>
/// The ranking seam: <see cref="InProcessRankingEngine"/> (embedded default) or
/// <see cref="RedisRankingEngine"/> (scale-out). Nothing outside it knows which one it has.
/// No method throws because Redis is unreachable: writes answer Pending, reads answer empty.
/// </summary>
public interface IRankingEngine : IAsyncDisposable
{
    /// <summary>
    /// Puts a finished (already committed) round on its boards and returns the person's ranks.
    /// Sent again (a Finish retried on another node after the first died between its commit and
    /// its reply), a round of a rule that adds rounds up changes nothing; a best-of-all round
    /// changes no board either, but should the first node have ranked it before dying, the Redis
    /// engine counts it twice in <see cref="CampaignHealth.AppliedRounds"/>: it keeps no per-person
    /// guard for that rule (RedisScripts.Finish), and a node's start rebuilds such a campaign.
    /// </summary>
    Task<FinishRanks> RecordFinishAsync(RoundFinished round, CancellationToken cancellationToken = default);

    /// <summary>True when a campaign's boards missed rounds (Redis was unreachable) and need <see cref="RebuildAsync"/>, and while one runs.</summary>
    bool NeedsCatchUp(string campaignId);

    /// <summary>Raised once per campaign when it starts needing catch-up.</summary>
    event Action<string>? CatchUpNeeded;

    /// <summary>
    /// What a watchdog needs to tell whether a campaign's boards are whole: the engine answers,
    /// the campaign's keys are there, and how many rounds it has applied (compared with
    /// the store's count of results committed a while ago).
    /// </summary>
    Task<CampaignHealth> CheckAsync(string campaignId, CancellationToken cancellationToken = default);

    /// <summary>Raised when the engine's backing store comes back after an outage (never for the in-process engine).</summary>
    event Action? Reconnected;

    /// <summary>Top <paramref name="count"/>, from the cache refreshed about once a second.</summary>
    Task<IReadOnlyList<BoardEntry>> GetTopAsync(BoardKey board, int count, CancellationToken cancellationToken = default);
    /// <summary>A member's live rank and value; null when they are not on the board.</summary>
    Task<BoardEntry?> GetMemberAsync(BoardKey board, long participantId, CancellationToken cancellationToken = default);
    /// <summary>The member and up to <paramref name="k"/> members either side, best first.</summary>
    Task<IReadOnlyList<BoardEntry>> GetAroundAsync(BoardKey board, long participantId, int k, CancellationToken cancellationToken = default);
    Task<long> GetSizeAsync(BoardKey board, CancellationToken cancellationToken = default);
    /// <summary>
    /// A member's rank and value on each of <paramref name="boards"/> (boards of one campaign), with
    /// each board's size: what the leaderboard page shows (the national, county and organisation
    /// places, "第 N 名 / 共 M 人"; after a round they come with the finish). One call where a lookup and a size a board took two
    /// each: the Redis engine answers it with one script call a shard. Null for a board the member
    /// is not on, and for every board while Redis is unreachable.
    /// </summary>
    Task<IReadOnlyList<BoardStanding?>> GetStandingsAsync(IReadOnlyList<BoardKey> boards, long participantId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Refreshes the cached top lists (runs by itself about once a second). Nothing is pushed of
    /// them: the dashboards are pushed the unit boards, which the store's figures make
    /// (<c>UnitStandings</c>), and a phone reads a top list when it shows one.
    /// </summary>
    Task RefreshAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Rebuilds every board of a campaign from the store. <paramref name="roundsAfter"/>(id) must stream
    /// the campaign's rounds with RoundId &gt; id in RoundId order. While it runs, finishes answer Pending;
    /// rounds committed meanwhile are picked up by further passes, so nothing is lost. Memory is bounded
    /// by the boards themselves, not by the number of rounds. Also the in-process engine's start-up load.
    /// </summary>
    Task<RebuildReport> RebuildAsync(string campaignId, Func<long, IAsyncEnumerable<RoundFinished>> roundsAfter, CancellationToken cancellationToken = default);

    /// <summary>
    /// The catch-up of a campaign this node missed rounds of (<see cref="NeedsCatchUp"/>): a
    /// rebuild, unless another node's rebuild has read the missed rounds since, in which case only
    /// the rounds stored after that one are replayed (<see cref="RebuildReport.Covered"/>).
    /// </summary>
    Task<RebuildReport> CatchUpAsync(string campaignId, Func<long, IAsyncEnumerable<RoundFinished>> roundsAfter, CancellationToken cancellationToken = default) =>
        RebuildAsync(campaignId, roundsAfter, cancellationToken);

    /// <summary>Compares the live boards with a recomputation from <paramref name="rounds"/> (all the campaign's rounds in RoundId order).</summary>
    Task<ReconcileReport> ReconcileAsync(string campaignId, IAsyncEnumerable<RoundFinished> rounds, CancellationToken cancellationToken = default);
}

/// <summary>See <see cref="IRankingEngine.CheckAsync"/>.</summary>
/// <param name="Held">A rebuild holds the campaign, on this node or another: its boards are being written.</param>
public sealed record CampaignHealth(bool Reachable, bool KeysPresent, long AppliedRounds, bool Held = false);
