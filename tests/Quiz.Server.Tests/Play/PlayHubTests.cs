using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Server.Play;
using Quiz.Server.Storage;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Play;

/// <summary>Every hub method with its errors, against the real server over a socket, time from a fake clock.</summary>
/// <remarks>
/// One seeded server for the class, and a new player for each test: attempts are a player's own and
/// the clock only moves forward within the stage. Tests that assert first places on the boards, or
/// move the clock past the stage, run on a server of their own (<see cref="OwnServerAsync"/>).
/// </remarks>
public sealed class PlayHubTests(PlayHubTests.Server server) : IClassFixture<PlayHubTests.Server>, IAsyncLifetime
{
    public sealed class Server : IAsyncLifetime
    {
        public QuizApplication App { get; } = new(kestrel: true);
        public Task InitializeAsync() => PlayWorld.SeedAsync(App);
        public Task DisposeAsync()
        {
            App.Dispose();
            return Task.CompletedTask;
        }
    }

    private QuizApplication _app = server.App;
    private QuizApplication? _own;
    private PlayWorld.Player _player = null!;

    public async Task InitializeAsync() => _player = await PlayWorld.ConnectPlayerAsync(_app);

    /// <summary>A seeded server of this test's own, and the player on it.</summary>
    private async Task OwnServerAsync()
    {
        await _player.DisposeAsync();
        _app = _own = new QuizApplication(kestrel: true);
        await PlayWorld.SeedAsync(_own);
        _player = await PlayWorld.ConnectPlayerAsync(_own);
    }

    public async Task DisposeAsync()
    {
        await _player.DisposeAsync();
        _own?.Dispose();
    }

    private HubConnection Hub => _player.Connection;

    private Task<RoundView> StartAsync(HubConnection? hub = null) =>
        (hub ?? Hub).InvokeAsync<RoundView>("StartRound", new StartRoundRequest(PlayWorld.CampaignId));

    private Task<AnswerResult> AnswerAsync(string roundId, int position, params int[] choices) =>
        Hub.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(roundId, position, choices));

    private Task<RoundResult> FinishAsync(string roundId) => Hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(roundId));

    /// <summary>The "code: text" of a hub error (SignalR prefixes it with where it happened).</summary>
    private static async Task<string> ErrorOf(Func<Task> call) => PlayErrorText((await Assert.ThrowsAsync<HubException>(call)).Message);

    public static string PlayErrorText(string message)
    {
        const string marker = "HubException: ";
        var at = message.IndexOf(marker, StringComparison.Ordinal);
        return at < 0 ? message : message[(at + marker.Length)..];
    }

    /// <summary>Waits until the store writer has kept the round's places, which it does just after the reply.</summary>
    private async Task PlacesKeptAsync(string roundId)
    {
        await using var connection = await _app.Service<Database>().OpenAsync();
        for (var i = 0; i < 200 && await connection.ExecuteScalarAsync<long?>("SELECT national_rank FROM results WHERE round_id = @roundId", new { roundId }) is null; i++)
            await Task.Delay(10);
    }

    /// <summary>The right choices for a question, from the bank (the test knows what players don't).</summary>
    private async Task<int[]> KeyOf(QuestionView question)
    {
        var stored = (await _app.Service<Quiz.Server.Questions.QuestionBank>().ListAsync()).Single(q => q.Question.Id == question.QuestionId).Question;
        return stored.AnswerIndexes.Select(i => question.Options.ToList().IndexOf(stored.Options[i])).Order().ToArray();
    }

    [Fact]
    public async Task StartRoundDrawsQuestionsWithoutKeysAndSetsTheDeadline()
    {
        var round = await StartAsync();

        Assert.Equal(5, round.Questions.Count);
        Assert.Equal(5, round.Questions.Select(q => q.QuestionId).Distinct().Count());
        Assert.Equal(_app.Clock.GetUtcNow() + TimeSpan.FromSeconds(120), round.Deadline);
        Assert.Equal(2, round.AttemptsLeft);
        var json = JsonSerializer.Serialize(round);
        Assert.DoesNotContain("explanation", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\"answer\"", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("承诺保本高息并公开宣传", json); // the explanation text itself
    }

    [Fact]
    public async Task AnAnswerGetsItsOutcomeKeyAndExplanationAndTheFirstAnswerCounts()
    {
        var round = await StartAsync();
        var question = round.Questions[0];
        var key = await KeyOf(question);
        var wrong = Enumerable.Range(0, question.Options.Count).First(i => !key.Contains(i));

        var first = await AnswerAsync(round.RoundId, 0, wrong);
        var repeat = await AnswerAsync(round.RoundId, 0, key);

        Assert.False(first.Correct);
        Assert.Equal(key, first.Key);
        Assert.False(string.IsNullOrEmpty(first.Explanation));
        Assert.Equal(first, repeat with { Key = first.Key });
        Assert.False(repeat.Correct);
    }

    [Fact]
    public async Task FinishScoresCommitsAndRanksAndARepeatGetsTheSameReply()
    {
        await OwnServerAsync();
        var round = await StartAsync();
        for (var i = 0; i < round.Questions.Count; i++)
        {
            _app.Clock.Advance(TimeSpan.FromSeconds(3));
            var key = await KeyOf(round.Questions[i]);
            Assert.True((await AnswerAsync(round.RoundId, i, i == 0 ? [key.Length == 1 ? (key[0] + 1) % round.Questions[i].Options.Count : 0] : key)).Correct == (i != 0));
        }
        _app.Clock.Advance(TimeSpan.FromSeconds(1));

        var result = await FinishAsync(round.RoundId);
        var repeat = await FinishAsync(round.RoundId);

        Assert.Equal((4, 5, 4), (result.Score, result.MaxScore, result.Correct));
        Assert.Equal(16_000, result.DurationMs);
        Assert.Equal(1L, result.NationalRank);
        Assert.False(result.RankPending);
        Assert.Equal(2, result.AttemptsLeft);
        Assert.Equal(5, result.Review.Count);
        Assert.Equivalent(result, repeat);
        await using var connection = await _app.Service<Database>().OpenAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM results WHERE round_id = @RoundId", round));
        Assert.Equal(5, await connection.ExecuteScalarAsync<int>(
            "SELECT COUNT(*) FROM answers a JOIN results r ON r.id = a.result_id WHERE r.round_id = @RoundId AND a.question_version = 1", round));
    }

    [Fact]
    public async Task TheLastAnswerCanFinishTheRoundInItsOwnCallCommittedBeforeTheReply()
    {
        var round = await StartAsync();
        var plain = new List<AnswerResult>();
        for (var i = 0; i < round.Questions.Count - 1; i++)
        {
            _app.Clock.Advance(TimeSpan.FromSeconds(3));
            plain.Add(await AnswerAsync(round.RoundId, i, await KeyOf(round.Questions[i])));
        }
        _app.Clock.Advance(TimeSpan.FromSeconds(3));
        var last = round.Questions.Count - 1;
        var key = await KeyOf(round.Questions[last]);

        var answered = await Hub.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, last, key, Finish: true));

        // The round was committed before the reply left: its result row is there now.
        await using (var connection = await _app.Service<Database>().OpenAsync())
            Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM results WHERE round_id = @RoundId", round));
        Assert.True(answered.Correct);
        var result = Assert.IsType<RoundResult>(answered.Result);
        Assert.Equal((5, 5, 5), (result.Score, result.MaxScore, result.Correct));
        Assert.Equal(15_000, result.DurationMs); // ends at the last answer: there was no later Finish
        Assert.False(result.AutoFinished);
        Assert.NotNull(result.NationalRank);
        Assert.Equal(5, result.Review.Count);
        Assert.All(plain, a => Assert.Null(a.Result));
        Assert.DoesNotContain("\"result\"", JsonSerializer.Serialize(plain[0], new JsonSerializerOptions(JsonSerializerDefaults.Web)));

        // A repeat of the call (its reply lost) and a Finish after it get the same result; the round takes no more answers.
        _app.Clock.Advance(TimeSpan.FromSeconds(2));
        var repeat = await Hub.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, last, key, Finish: true));
        Assert.Equivalent(answered, repeat, strict: true);
        Assert.Equivalent(result, await FinishAsync(round.RoundId), strict: true);
        Assert.Null(await Hub.InvokeAsync<RoundView?>("CurrentRound", PlayWorld.CampaignId));
    }

    [Fact]
    public async Task AnAnswerThatFinishesLeavesTheRestUnansweredAndARefusedOneFinishesNothing()
    {
        var round = await StartAsync();
        var key = await KeyOf(round.Questions[0]);

        Assert.StartsWith(PlayErrors.InvalidRequest, await ErrorOf(() => Hub.InvokeAsync<AnswerResult>("Answer",
            new AnswerRequest(round.RoundId, 0, [99], Finish: true))));
        Assert.Equal(round.RoundId, (await Hub.InvokeAsync<RoundView?>("CurrentRound", PlayWorld.CampaignId))?.RoundId);

        _app.Clock.Advance(TimeSpan.FromSeconds(4));
        var answered = await Hub.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, 0, key, Finish: true));

        var result = Assert.IsType<RoundResult>(answered.Result);
        Assert.Equal((1, 1), (result.Score, result.Correct));
        Assert.Equal(4_000, result.DurationMs);
        Assert.Equal(PlayErrors.RoundFinished, (await ErrorOf(() => AnswerAsync(round.RoundId, 1, 0))).Split(':')[0]);
        Assert.Equivalent(result, await FinishAsync(round.RoundId), strict: true);
    }

    [Fact]
    public async Task ARepeatedFinishLongAfterwardsIsAnsweredFromTheStore()
    {
        var round = await StartAsync();
        var key = await KeyOf(round.Questions[0]);
        await AnswerAsync(round.RoundId, 0, key);
        var first = await FinishAsync(round.RoundId);
        await PlacesKeptAsync(round.RoundId);

        _app.Clock.Advance(TimeSpan.FromMinutes(5)); // the round has left memory
        var later = await FinishAsync(round.RoundId);

        // Every field, the national rank and the attempts left among them.
        Assert.Equivalent(first, later, strict: true);
        Assert.NotNull(later.NationalRank);
        Assert.Equal(2, later.AttemptsLeft);
    }

    [Fact]
    public async Task ARepeatedFinishAnswersTheRanksTheFirstReplyGaveEvenAfterOthersOvertook()
    {
        await OwnServerAsync();
        var round = await StartAsync();
        var first = await FinishAsync(round.RoundId); // score 0, alone: rank 1 everywhere
        await PlacesKeptAsync(round.RoundId);
        await Staff.PlayRoundAsync(_app, PlayWorld.County, PlayWorld.Bank); // a better (or equal) round by someone else
        _app.Clock.Advance(TimeSpan.FromMinutes(5)); // the round has left memory

        var later = await FinishAsync(round.RoundId);

        Assert.Equal((1L, 1L, 1L, 1L, 1L, 1L), (first.NationalRank, first.NationalBoardSize, first.UnitRank, first.UnitBoardSize, first.OrganisationRank, first.OrganisationBoardSize));
        Assert.Equal((first.NationalRank, first.NationalBoardSize, first.UnitRank, first.UnitBoardSize, first.OrganisationRank, first.OrganisationBoardSize, first.AttemptsLeft, first.RankPending),
            (later.NationalRank, later.NationalBoardSize, later.UnitRank, later.UnitBoardSize, later.OrganisationRank, later.OrganisationBoardSize, later.AttemptsLeft, later.RankPending));
    }

    [Fact]
    public async Task TheSecondPlayerWithTheBetterScoreRanksFirst()
    {
        await OwnServerAsync();
        var slow = await StartAsync();
        await FinishAsync(slow.RoundId); // score 0
        await using var other = await PlayWorld.ConnectPlayerAsync(_app, region: PlayWorld.OtherCounty, organisation: null);
        var round = await StartAsync(other.Connection);
        var key = await KeyOf(round.Questions[0]);
        await other.Connection.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, 0, key));

        var result = await other.Connection.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId));

        // First of the two in the country, alone in a county of its own, and of no organisation.
        Assert.Equal((1L, 2L, 1L, 1L, (long?)null, (long?)null),
            (result.NationalRank, result.NationalBoardSize, result.UnitRank, result.UnitBoardSize, result.OrganisationRank, result.OrganisationBoardSize));
    }

    [Fact]
    public async Task TheAttemptCapHoldsAndBonusAttemptsExtendIt()
    {
        for (var i = 0; i < 3; i++) await FinishAsync((await StartAsync()).RoundId);

        Assert.StartsWith(PlayErrors.NoAttemptsLeft, await ErrorOf(() => StartAsync()));

        using var admin = _app.CreateAdminClient();
        var day = new DateOnly(2024, 6, 12);
        (await admin.PostAsync($"/api/admin/campaigns/{PlayWorld.CampaignId}/bonus-attempts",
            System.Net.Http.Json.JsonContent.Create(new { participantId = _player.Id, stageId = "main", day, extra = 1 }))).EnsureSuccessStatusCode();
        var fourth = await StartAsync();
        Assert.Equal(0, fourth.AttemptsLeft);

        // A new day brings new attempts.
        await FinishAsync(fourth.RoundId);
        _app.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(2, (await StartAsync()).AttemptsLeft);
    }

    [Fact]
    public async Task AHundredConcurrentStartsNeverExceedTheCap()
    {
        // From several connections of the same person at once.
        var connections = new List<HubConnection> { Hub };
        for (var i = 0; i < 4; i++)
        {
            var c = PlayWorld.Connection(_app, _player.Token);
            await c.StartAsync();
            connections.Add(c);
        }

        // 100 starts at once: one round, the rest resume it.
        var starts = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => StartAsync(connections[i % connections.Count])));
        Assert.Single(starts.Select(r => r.RoundId).Distinct());

        // Then every connection plays start-finish loops at once until the cap stops it.
        var played = await Task.WhenAll(connections.Select(async hub =>
        {
            var rounds = new List<string>();
            for (var i = 0; i < 10; i++)
            {
                try
                {
                    var round = await StartAsync(hub);
                    await hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId));
                    rounds.Add(round.RoundId);
                }
                catch (HubException e) when (PlayErrorText(e.Message).StartsWith(PlayErrors.NoAttemptsLeft))
                {
                    break;
                }
            }
            return rounds;
        }));

        await using var connection = await _app.Service<Database>().OpenAsync();
        var stored = (await connection.QueryAsync<string>("SELECT id FROM rounds WHERE participant_id = @Id", new { _player.Id })).Order().ToList();
        Assert.Equal(3, stored.Count);
        Assert.Equal(stored, played.SelectMany(r => r).Distinct().Order());
        foreach (var c in connections.Skip(1)) await c.DisposeAsync();
    }

    [Fact]
    public async Task ASecondStartWhileARoundIsInPlayResumesIt()
    {
        var first = await StartAsync();
        var second = await StartAsync();
        Assert.Equal(first.RoundId, second.RoundId);
        Assert.Equal(2, second.AttemptsLeft);
    }

    [Fact]
    public async Task AnswersAfterTheDeadlineAreRefusedAndTheRoundFinishesItself()
    {
        var pushed = new TaskCompletionSource<RoundResult>();
        Hub.On<RoundResult>("RoundFinished", r => pushed.TrySetResult(r));
        var round = await StartAsync();
        await AnswerAsync(round.RoundId, 0, 0);

        _app.Clock.Advance(TimeSpan.FromSeconds(121));

        var result = await pushed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(result.AutoFinished);
        Assert.Equal(120_000, result.DurationMs);
        Assert.StartsWith(PlayErrors.RoundFinished, await ErrorOf(() => AnswerAsync(round.RoundId, 1, 0)));
        Assert.Equal(result.Score, (await FinishAsync(round.RoundId)).Score);
        await using var connection = await _app.Service<Database>().OpenAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT auto_finished FROM results WHERE round_id = @RoundId", round));
    }

    [Fact]
    public async Task MalformedCallsGetAnErrorAndTheConnectionCarriesOn()
    {
        var round = await StartAsync();

        Assert.StartsWith(PlayErrors.InvalidRequest, await ErrorOf(() => AnswerAsync(round.RoundId, 99, 0)));
        Assert.StartsWith(PlayErrors.InvalidRequest, await ErrorOf(() => AnswerAsync(round.RoundId, 0, 0, 0)));
        Assert.StartsWith(PlayErrors.InvalidRequest, await ErrorOf(() => AnswerAsync(round.RoundId, 0, 42)));
        Assert.StartsWith(PlayErrors.RoundNotFound, await ErrorOf(() => AnswerAsync("no-such-round", 0, 0)));
        Assert.StartsWith(PlayErrors.RoundNotFound, await ErrorOf(() => FinishAsync("no-such-round")));
        Assert.StartsWith(PlayErrors.UnknownCampaign, await ErrorOf(() => Hub.InvokeAsync<RoundView>("StartRound", new StartRoundRequest("nope"))));
        Assert.StartsWith(PlayErrors.InvalidRequest, await ErrorOf(() => Hub.InvokeAsync<RoundView>("StartRound", (object?)null)));
        await Assert.ThrowsAsync<HubException>(() => Hub.InvokeAsync<AnswerResult>("Answer", "not an object"));
        await Assert.ThrowsAsync<HubException>(() => Hub.InvokeAsync<AnswerResult>("Answer", 1, 2, 3));
        await Assert.ThrowsAsync<HubException>(() => Hub.InvokeAsync<object>("NoSuchMethod"));

        Assert.Equal(HubConnectionState.Connected, Hub.State);
        Assert.Equal(round.RoundId, (await StartAsync()).RoundId);
    }

    [Fact]
    public async Task AnotherParticipantCannotTouchMyRound()
    {
        var round = await StartAsync();
        await using var other = await PlayWorld.ConnectPlayerAsync(_app);
        Assert.StartsWith(PlayErrors.RoundNotFound, await ErrorOf(() =>
            other.Connection.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, 0, [0]))));
        Assert.StartsWith(PlayErrors.RoundNotFound, await ErrorOf(() =>
            other.Connection.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId))));
    }

    [Fact]
    public async Task WithoutATokenTheHubRefusesTheConnection()
    {
        var anonymous = new HubConnectionBuilder().WithUrl(new Uri(_app.ServerAddress, "/hubs/play")).Build();
        await Assert.ThrowsAnyAsync<Exception>(() => anonymous.StartAsync());
        await anonymous.DisposeAsync();
    }

    [Fact]
    public async Task AReconnectedPlayerGetsTheRoundBackAndCarriesOn()
    {
        var round = await StartAsync();
        var key = await KeyOf(round.Questions[0]);
        await AnswerAsync(round.RoundId, 0, key);
        await Hub.StopAsync(); // the phone lost its connection
        _app.Clock.Advance(TimeSpan.FromSeconds(30));

        await using var again = PlayWorld.Connection(_app, _player.Token);
        await again.StartAsync();
        var resumed = await again.InvokeAsync<RoundView?>("CurrentRound", PlayWorld.CampaignId);

        Assert.NotNull(resumed);
        Assert.Equal(round.RoundId, resumed.RoundId);
        Assert.Equal(round.Deadline, resumed.Deadline);
        Assert.Equal(round.Questions.Select(q => q.Options), resumed.Questions.Select(q => q.Options));
        var given = Assert.Single(resumed.Answers);
        Assert.Equal((0, true), (given.Position, given.Result!.Correct));
        await again.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, 1, [0]));
        var result = await again.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId));
        Assert.True(result.Score >= 1);
        Assert.Null(await again.InvokeAsync<RoundView?>("CurrentRound", PlayWorld.CampaignId));
    }

    [Fact]
    public async Task OutsideTheStageWindowNoRoundStarts()
    {
        await OwnServerAsync();
        _app.Clock.Advance(TimeSpan.FromDays(10)); // 22 June: after the stage
        Assert.StartsWith(PlayErrors.StageClosed, await ErrorOf(() => StartAsync()));
    }

    [Fact]
    public async Task AnswersTooFastFlagTheRoundButItStillCounts()
    {
        using var app = new QuizApplication(kestrel: true);
        await PlayWorld.SeedAsync(app, PlayWorld.Campaign(s => s with { MinAnswerMs = 1500 }));
        await using var player = await PlayWorld.ConnectPlayerAsync(app);
        var round = await player.Connection.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(PlayWorld.CampaignId));
        app.Clock.Advance(TimeSpan.FromMilliseconds(200));
        await player.Connection.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, 0, [0]));
        await player.Connection.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId));

        await using var connection = await app.Service<Database>().OpenAsync();
        var flag = await connection.ExecuteScalarAsync<string>("SELECT flagged FROM results WHERE round_id = @RoundId", round);
        Assert.Contains("answered in 200 ms", flag);
    }

    [Fact]
    public async Task StartingRoundsIsRateLimitedPerParticipant()
    {
        using var app = new QuizApplication(kestrel: true).With("RateLimits:RoundStartsPerMinutePerParticipant", "2");
        await PlayWorld.SeedAsync(app, PlayWorld.Campaign(s => s with { AttemptsPerDay = 10 }));
        await using var player = await PlayWorld.ConnectPlayerAsync(app);
        for (var i = 0; i < 2; i++)
        {
            var round = await player.Connection.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(PlayWorld.CampaignId));
            await player.Connection.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId));
        }
        var error = await ErrorOf(() => player.Connection.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(PlayWorld.CampaignId)));
        Assert.StartsWith(PlayErrors.RateLimited, error);
        // It says how long to wait: the rest of the one-minute window, in whole seconds.
        var wait = int.Parse(System.Text.RegularExpressions.Regex.Match(error, @"wait (\d+) s").Groups[1].Value);
        Assert.InRange(wait, 1, 60);
    }

    [Fact]
    public async Task StagesThatHideAnswersRevealThemOnlyInTheResult()
    {
        using var app = new QuizApplication(kestrel: true);
        await PlayWorld.SeedAsync(app, PlayWorld.Campaign(s => s with { ShowAnswers = false }));
        await using var player = await PlayWorld.ConnectPlayerAsync(app);
        var round = await player.Connection.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(PlayWorld.CampaignId));

        var answer = await player.Connection.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, 0, [0]));
        var result = await player.Connection.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId));

        Assert.False(round.ShowAnswers);
        Assert.Null(answer.Key);
        Assert.Null(answer.Explanation);
        Assert.All(result.Review, r => Assert.NotEmpty(r.Key));
    }

    [Fact]
    public async Task APerQuestionLimitMakesALateAnswerScoreNothing()
    {
        using var app = new QuizApplication(kestrel: true);
        await PlayWorld.SeedAsync(app, PlayWorld.Campaign(s => s with { RoundSeconds = null, QuestionSeconds = 10 }));
        await using var player = await PlayWorld.ConnectPlayerAsync(app);
        var round = await player.Connection.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(PlayWorld.CampaignId));
        Assert.Equal(app.Clock.GetUtcNow() + TimeSpan.FromSeconds(50), round.Deadline);
        var stored = (await app.Service<Quiz.Server.Questions.QuestionBank>().ListAsync()).ToDictionary(q => q.Question.Id);
        int[] Key(QuestionView q) => stored[q.QuestionId].Question.AnswerIndexes.Select(i => q.Options.ToList().IndexOf(stored[q.QuestionId].Question.Options[i])).Order().ToArray();

        app.Clock.Advance(TimeSpan.FromSeconds(5));
        var inTime = await player.Connection.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, 0, Key(round.Questions[0])));
        app.Clock.Advance(TimeSpan.FromSeconds(11));
        var late = await player.Connection.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, 1, Key(round.Questions[1])));
        var result = await player.Connection.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId));

        Assert.True(inTime.Correct);
        Assert.True(late.Late);
        Assert.False(late.Correct);
        Assert.Equal(1, result.Score);
    }
}
