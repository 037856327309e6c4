using Quiz.Ranking;
using Dapper;
using Quiz.Server.Play;
using Quiz.Server.Storage;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Play;

/// <summary>
/// The store's writes of a group: finishes that arrive together are written together (set-based on
/// PostgreSQL, one by one on SQLite) and must come out exactly as if written alone, repeats and
/// several finishes of one person included. Run on both providers (QUIZ_TEST_STORE=postgres).
/// </summary>
public sealed class RoundStoreTests : IAsyncLifetime
{
    private readonly QuizApplication _app = new();

    public Task InitializeAsync() => PlayWorld.SeedAsync(_app);

    public Task DisposeAsync()
    {
        _app.Dispose();
        return Task.CompletedTask;
    }

    private RoundStore Store => _app.Service<RoundStore>();

    private async Task<RoundStore.FinishedRound> StartedAsync(long participant, string id, string day, int score)
    {
        var now = _app.Clock.GetUtcNow();
        var claim = await Store.StartAsync(new RoundStore.StartedRound(id, PlayWorld.CampaignId, "main", participant, day, now,
            now.AddMinutes(2), "[]", null), attemptsPerDay: 10);
        Assert.NotNull(claim.AttemptsLeft);
        var answers = Enumerable.Range(0, 3).Select(p => new RoundStore.AnswerRow(p, $"Q{p}", 1, p < score ? "A" : "B", p < score, p < score ? 1 : 0, 1000 + p))
            .ToList();
        return new RoundStore.FinishedRound(id, PlayWorld.CampaignId, "main", participant, day, score, 3, score, 9000 + score, now.AddSeconds(9),
            false, null, 1, answers);
    }

    /// <summary>Holds the writer for a moment, so that everything sent meanwhile is written as one group.</summary>
    private async Task<T[]> InOneGroupAsync<T>(IEnumerable<Func<Task<T>>> writes)
    {
        var release = new TaskCompletionSource();
        var holding = _app.Service<StoreWriter>().WriteAsync(async (_, _) => { await release.Task; return 0; });
        var sent = writes.Select(w => w()).ToList();
        await Task.Delay(100);
        release.SetResult();
        await holding;
        return await Task.WhenAll(sent);
    }

    [Fact]
    public async Task TheQuestionsAPersonWasShownAreEveryQuestionOfTheirRoundsInTheCampaignOnceAndNoOneElses()
    {
        var a = (await PlayWorld.RegisterAsync(_app)).Participant.ParticipantId;
        var b = (await PlayWorld.RegisterAsync(_app)).Participant.ParticipantId;
        Assert.Empty(await Store.SeenQuestionsAsync(a, PlayWorld.CampaignId));
        var now = _app.Clock.GetUtcNow();
        async Task StartAsync(long participant, string id, string day, params string[] questions) =>
            Assert.NotNull((await Store.StartAsync(new RoundStore.StartedRound(id, PlayWorld.CampaignId, "main", participant, day, now, now.AddMinutes(2),
                System.Text.Json.JsonSerializer.Serialize(questions.Select(q => new RoundStore.StoredRef(q, 1, [1, 0, 2, 3]))), null), attemptsPerDay: 10)).AttemptsLeft);
        await StartAsync(a, "seen-1", "2024-06-11", "Q1", "Q2", "Q3");
        await StartAsync(a, "seen-2", "2024-06-12", "Q3", "Q4");
        await StartAsync(b, "seen-3", "2024-06-12", "Q5");

        Assert.Equal(["Q1", "Q2", "Q3", "Q4"], (await Store.SeenQuestionsAsync(a, PlayWorld.CampaignId)).Order());
        Assert.Equal(["Q5"], (await Store.SeenQuestionsAsync(b, PlayWorld.CampaignId)).Order());
        Assert.Empty(await Store.SeenQuestionsAsync(a, "another-campaign"));
    }

    [Fact]
    public async Task FinishesWrittenTogetherCountAsIfWrittenAloneWithRepeatsAndOnePersonsSeveralRounds()
    {
        var a = (await PlayWorld.RegisterAsync(_app)).Participant.ParticipantId;
        var b = (await PlayWorld.RegisterAsync(_app)).Participant.ParticipantId;
        var earlier = await StartedAsync(a, "a-yesterday", "2024-06-11", 2);
        await Store.FinishAsync(earlier); // a already played the day before
        var rounds = new[]
        {
            await StartedAsync(a, "a-1", "2024-06-12", 3), await StartedAsync(a, "a-2", "2024-06-12", 1),
            await StartedAsync(b, "b-1", "2024-06-12", 2), await StartedAsync(b, "b-2", "2024-06-12", 0),
        };

        // Each round finished twice in the group, and a-yesterday once more.
        var sent = rounds.Concat(rounds).Append(earlier).ToList();
        var committed = await InOneGroupAsync(sent.Select(r => (Func<Task<RoundStore.Committed>>)(() => Store.FinishAsync(r))));

        var first = committed.Take(4).ToList();
        Assert.All(first, c => Assert.False(c.AlreadyFinished));
        Assert.Equal(4, first.Select(c => c.ResultId).Distinct().Count());
        Assert.Equal(first.Select(c => c.ResultId), committed.Skip(4).Take(4).Select(c => c.ResultId)); // a repeat answers the first's result
        Assert.All(committed.Skip(4), c => Assert.True(c.AlreadyFinished));
        // a: not new to the campaign (played yesterday); the first of the day is a-1 only. b: new, with b-1.
        Assert.Equal([(false, true), (false, false), (true, true), (false, false)], first.Select(c => (c.FirstInCampaign, c.FirstOfDay)));

        await using var connection = await _app.Service<Database>().OpenAsync();
        var stored = (await connection.QueryAsync<(string RoundId, long Id, long Score, long First, long FirstOfDay, long Answers)>("""
            SELECT r.round_id, r.id, r.score, r.first_in_campaign, r.first_of_day, (SELECT COUNT(*) FROM answers a WHERE a.result_id = r.id)
            FROM results r ORDER BY r.id
            """)).ToList();
        Assert.Equal(["a-yesterday", "a-1", "a-2", "b-1", "b-2"], stored.Select(s => s.RoundId));
        Assert.Equal([2L, 3, 1, 2, 0], stored.Select(s => s.Score));
        Assert.Equal([1L, 0, 0, 1, 0], stored.Select(s => s.First));
        Assert.Equal([1L, 1, 0, 1, 0], stored.Select(s => s.FirstOfDay));
        Assert.All(stored, s => Assert.Equal(3, s.Answers));
        Assert.Equal(first.Select(c => c.ResultId), stored.Skip(1).Select(s => s.Id));
        var correct = await connection.QueryAsync<long>("SELECT correct FROM answers WHERE result_id = @Id ORDER BY position", new { Id = first[1].ResultId });
        Assert.Equal([1L, 0, 0], correct); // a-2 scored 1: its first answer right
        Assert.Equal(5, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rounds WHERE status = 'finished'"));
    }

    [Fact]
    public async Task PlacesWrittenTogetherLandOnTheirOwnResults()
    {
        var a = (await PlayWorld.RegisterAsync(_app)).Participant.ParticipantId;
        var ids = new List<long>();
        for (var i = 0; i < 3; i++) ids.Add((await Store.FinishAsync(await StartedAsync(a, $"r-{i}", "2024-06-12", i))).ResultId);

        await InOneGroupAsync(ids.Select((id, i) => (Func<Task<int>>)(async () =>
        {
            if (i == 1) await Store.RecordPlacesAsync(id, null, null, null);
            else await Store.RecordPlacesAsync(id, new Place(10 + i, 100 + i), new Place(20 + i, 200 + i), i == 2 ? new Place(3, 30) : null);
            return 0;
        })));

        await using var connection = await _app.Service<Database>().OpenAsync();
        var places = (await connection.QueryAsync<(long? Nr, long? Ns, long? Ur, long? Us, long? Or, long? Os)>(
            "SELECT national_rank, national_size, unit_rank, unit_size, organisation_rank, organisation_size FROM results ORDER BY id")).ToList();
        Assert.Equal([(10L, 100L, 20L, 200L, null, null), (null, null, null, null, null, null), (12L, 102L, 22L, 202L, 3L, 30L)],
            places.Select(p => ((long?, long?, long?, long?, long?, long?))p));
    }

    [Fact]
    public async Task AVoidedRoundFinishedAfterAllCountsAndTakesItsAttemptAgain()
    {
        var a = (await PlayWorld.RegisterAsync(_app)).Participant.ParticipantId;
        var rounds = new[] { await StartedAsync(a, "v-1", "2024-06-12", 2), await StartedAsync(a, "v-2", "2024-06-12", 1) };
        await using var connection = await _app.Service<Database>().OpenAsync();
        Task<long> UsedAsync() => connection.ExecuteScalarAsync<long>(
            "SELECT used FROM attempts WHERE participant_id = @a AND campaign_id = @CampaignId AND day = '2024-06-12'", new { a, PlayWorld.CampaignId });
        Assert.Equal(2, await UsedAsync());

        // The sweeper took them for abandoned and gave the attempts back ...
        foreach (var r in rounds) await Store.VoidAsync(r.RoundId);
        Assert.Equal(0, await UsedAsync());

        // ... then the node that held them finishes both (one group: the set-based path on PostgreSQL).
        var committed = await InOneGroupAsync(rounds.Select(r => (Func<Task<RoundStore.Committed>>)(() => Store.FinishAsync(r))));
        Assert.All(committed, c => Assert.False(c.AlreadyFinished));
        Assert.Equal(2, await UsedAsync());
        Assert.Equal(["finished", "finished"], await connection.QueryAsync<string>("SELECT status FROM rounds WHERE id IN ('v-1', 'v-2') ORDER BY id"));
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM results WHERE round_id IN ('v-1', 'v-2')"));

        // A repeat changes nothing more.
        await Store.FinishAsync(rounds[0]);
        Assert.Equal(2, await UsedAsync());
    }
}
