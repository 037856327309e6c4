using System.Data.Common;
using System.Security.Cryptography;
using Dapper;
using Quiz.Server.Campaigns;
using Quiz.Server.Participants;
using Quiz.Server.Play;
using Quiz.Server.Storage;

namespace Quiz.Server.Rewards;

/// <summary>A scene's ladder for one person: the step reached and whether the scene is rescued (2025's roles).</summary>
public sealed record LadderState(string Scene, int Step, bool Rescued);

/// <summary>
/// All SQL on what a person earns besides a round's score (2025): ladders per scene, invitations,
/// the daily learning task, and the totals and prize tiers that come of them. What a finish earns
/// is written inside the finish transaction (<see cref="RoundStore"/> calls the static methods), so
/// a repeated Finish, which stops before them, changes nothing; what an acknowledgement earns is
/// guarded by a primary key. Totals are counted from these rows, never kept as a running sum that
/// a retry could add to twice.
/// </summary>
public sealed class RewardStore(Database database, StoreWriter writer, TimeProvider clock)
{
    // ---- inside the finish transaction ------------------------------------------------------

    /// <summary>Moves the person's ladder in a scene by a round's answers (<see cref="PlayRules.Climb"/>) and keeps it.</summary>
    public static async Task<LadderState> ClimbAsync(DbConnection connection, DbTransaction tx, long participantId, string campaignId, string scene,
        IReadOnlyList<bool> rightInOrder)
    {
        var args = new { participantId, campaignId, scene };
        // No row yet reads as (0, 0): the foot of the ladder, not rescued.
        var (step, rescued) = await connection.QuerySingleOrDefaultAsync<(long Step, long Rescued)>(
            "SELECT step, rescued FROM ladders WHERE participant_id = @participantId AND campaign_id = @campaignId AND scene = @scene", args, tx);
        var after = PlayRules.Climb((int)step, rescued != 0, rightInOrder);
        await connection.ExecuteAsync("""
            INSERT INTO ladders (participant_id, campaign_id, scene, step, rescued) VALUES (@participantId, @campaignId, @scene, @Step, @Rescued)
            ON CONFLICT (participant_id, campaign_id, scene) DO UPDATE SET step = excluded.step, rescued = excluded.rescued
            """, new { participantId, campaignId, scene, after.Step, Rescued = after.Rescued ? 1 : 0 }, tx);
        return new LadderState(scene, after.Step, after.Rescued);
    }

    /// <summary>
    /// The participant took part: whoever invited them is rewarded, once per invitee and campaign
    /// (the table's key; a later round, or a Finish repeated on another node, inserts nothing).
    /// </summary>
    public static Task RewardInviterAsync(DbConnection connection, DbTransaction tx, long participantId, string campaignId, string stageId, string day, long resultId) =>
        // WHERE in the SELECT: SQLite needs one to tell the upsert's ON CONFLICT from a join.
        connection.ExecuteAsync("""
            INSERT INTO invitation_rewards (campaign_id, invitee_id, inviter_id, stage_id, day, result_id)
            SELECT @campaignId, id, invited_by, @stageId, @day, @resultId FROM participants WHERE id = @participantId AND invited_by IS NOT NULL
            ON CONFLICT (campaign_id, invitee_id) DO NOTHING
            """, new { participantId, campaignId, stageId, day, resultId }, tx);

    // ---- invitations ------------------------------------------------------------------------

    /// <summary>Letters and digits no one misreads (no 0/O, 1/I/L), for codes typed from a poster as well as followed in a link.</summary>
    private const string CodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

    /// <summary>The person's invitation code, made the first time it is asked for and the same ever after.</summary>
    public Task<string> InviteCodeAsync(long participantId, CancellationToken ct = default) =>
        writer.WriteAsync(async (connection, tx) =>
        {
            if (await connection.ExecuteScalarAsync<string?>("SELECT invite_code FROM participants WHERE id = @participantId", new { participantId }, tx) is { } kept)
                return kept;
            string code;
            do code = string.Concat(Enumerable.Range(0, 8).Select(_ => CodeAlphabet[RandomNumberGenerator.GetInt32(CodeAlphabet.Length)]));
            while (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM participants WHERE invite_code = @code", new { code }, tx) > 0);
            await connection.ExecuteAsync("UPDATE participants SET invite_code = @code WHERE id = @participantId", new { code, participantId }, tx);
            return code;
        }, ct);

    /// <summary>Whose invitation a code is, or null.</summary>
    public async Task<long?> InviterAsync(string code, CancellationToken ct = default)
    {
        if (code.Length is 0 or > 16) return null;
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long?>("SELECT id FROM participants WHERE invite_code = @code", new { code = code.Trim().ToUpperInvariant() });
    }

    // ---- the daily learning task ------------------------------------------------------------

    /// <summary>Records the day's learning task as done; false when it was done already that day (nothing is added).</summary>
    public Task<bool> LearnAsync(long participantId, string campaignId, string stageId, DateOnly day, CancellationToken ct = default) =>
        writer.WriteAsync(async (connection, tx) => await connection.ExecuteAsync("""
            INSERT INTO learning_tasks (participant_id, campaign_id, stage_id, day, done_at) VALUES (@participantId, @campaignId, @stageId, @Day, @Now)
            ON CONFLICT (participant_id, campaign_id, stage_id, day) DO NOTHING
            """, new { participantId, campaignId, stageId, Day = day.ToString("yyyy-MM-dd"), Now = clock.GetUtcNow().ToString("O") }, tx) == 1, ct);

    public async Task<bool> LearnedAsync(long participantId, string campaignId, string stageId, DateOnly day, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>("""
            SELECT COUNT(*) FROM learning_tasks WHERE participant_id = @participantId AND campaign_id = @campaignId AND stage_id = @stageId AND day = @Day
            """, new { participantId, campaignId, stageId, Day = day.ToString("yyyy-MM-dd") }) > 0;
    }

    // ---- totals -----------------------------------------------------------------------------

    public sealed record PointsView(int Profile, int Invitations, int LearningTasks, int Total);
    public sealed record LadderView(string Scene, string Name, int Step, bool Rescued);
    public sealed record PrizeView(string Id, string Name, int MinScore, int MinPoints, bool Reached);

    /// <param name="Score">Every finished round's score added up (2025: the flowers).</param>
    /// <param name="BestRound">The best single round's score; null before the first round.</param>
    /// <param name="AttemptsLeftToday">The starts left today, counted as a start claims them; null when today is not a day of the stage.</param>
    public sealed record Totals(string CampaignId, string StageId, int Score, int Rounds, PointsView Points, int InvitedFriends,
        bool LearnedToday, IReadOnlyList<LadderView> Ladder, IReadOnlyList<PrizeView> Prizes, int? BestRound, int? AttemptsLeftToday);

    /// <summary>The counts behind <see cref="Totals"/>, by column name (more than a tuple holds); <c>Best</c> is -1 before the first round.</summary>
    private sealed class Counts
    {
        public long Score { get; set; }
        public long Rounds { get; set; }
        public long Invited { get; set; }
        public long Learned { get; set; }
        public long LearnedToday { get; set; }
        public long Best { get; set; }
        public long UsedToday { get; set; }
        public long AllowedToday { get; set; }
    }

    /// <summary>A person's totals in a stage, counted from the store, and the prize tiers they reach.</summary>
    public async Task<Totals> TotalsAsync(Participant participant, Campaign campaign, Stage stage, CancellationToken ct = default)
    {
        var today = campaign.DayOf(clock.GetUtcNow());
        var args = new
        {
            ParticipantId = participant.Id, CampaignId = campaign.Id, StageId = stage.Id, Today = today.ToString("yyyy-MM-dd"), Day = today.ToString("yyyy-MM-dd"),
            attemptsPerDay = stage.AttemptsPerDay, attemptsPerInvitee = stage.InvitationAttempts,
        };
        await using var connection = await database.OpenAsync(ct);
        // CAST: PostgreSQL sums bigints into numeric.
        var counts = await connection.QuerySingleAsync<Counts>($$"""
            SELECT (SELECT CAST(COALESCE(SUM(score), 0) AS BIGINT) FROM results WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId AND stage_id = @StageId) AS Score,
                   (SELECT COUNT(*) FROM results WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId AND stage_id = @StageId) AS Rounds,
                   (SELECT COUNT(*) FROM invitation_rewards WHERE inviter_id = @ParticipantId AND campaign_id = @CampaignId AND stage_id = @StageId) AS Invited,
                   (SELECT COUNT(*) FROM learning_tasks WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId AND stage_id = @StageId) AS Learned,
                   (SELECT COUNT(*) FROM learning_tasks WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId AND stage_id = @StageId AND day = @Today) AS LearnedToday,
                   (SELECT CAST(COALESCE(MAX(score), -1) AS BIGINT) FROM results WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId AND stage_id = @StageId) AS Best,
                   (SELECT CAST(COALESCE(SUM(used), 0) AS BIGINT) FROM attempts WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId AND stage_id = @StageId AND day = @Today) AS UsedToday,
                   CAST({{RoundStore.AllowedSql}} AS BIGINT) AS AllowedToday
            """, args);
        // Against the cap a start claims (RoundStore.AllowedSql).
        int? attemptsLeft = stage.StartDay <= today && today <= stage.EndDay ? Math.Max(0, (int)(counts.AllowedToday - counts.UsedToday)) : null;
        var ladders = (await connection.QueryAsync<(string Scene, long Step, long Rescued)>(
            "SELECT scene, step, rescued FROM ladders WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId", args)).ToDictionary(l => l.Scene);

        var bonus = stage.BonusPoints;
        // A completed profile: registered with a work unit or university (units are fixed at registration, so counts cannot move).
        var profile = participant.OrganisationCode is null ? 0 : bonus.Profile;
        var points = new PointsView(profile, (int)counts.Invited * bonus.Invitation, (int)counts.Learned * bonus.LearningTask,
            profile + (int)counts.Invited * bonus.Invitation + (int)counts.Learned * bonus.LearningTask);
        var score = (int)counts.Score;
        return new Totals(campaign.Id, stage.Id, score, (int)counts.Rounds, points, (int)counts.Invited, counts.LearnedToday > 0,
            stage.Ladder
                ? stage.Scenes.Select(s => ladders.TryGetValue(s.Id, out var l) ? new LadderView(s.Id, s.Name, (int)l.Step, l.Rescued != 0) : new LadderView(s.Id, s.Name, 0, false)).ToList()
                : [],
            stage.Prizes.Select(p => new PrizeView(p.Id, p.Name, p.MinScore, p.MinPoints, score >= p.MinScore && points.Total >= p.MinPoints)).ToList(),
            counts.Best >= 0 ? (int)counts.Best : null, attemptsLeft);
    }
}
