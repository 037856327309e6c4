using Dapper;
using System.Diagnostics.Metrics;
using Quiz.Server.Diagnostics;
using Quiz.Server.Play;
using Quiz.Server.Storage;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Events;

/// <summary>RoundCompleted feeds the daily unit statistics and the question statistics, on the real in-memory bus.</summary>
public sealed class ProjectionTests : IAsyncLifetime
{
    private readonly QuizApplication _app = new();
    private RoundService Rounds => _app.Service<RoundService>();

    public Task InitializeAsync() => PlayWorld.SeedAsync(_app);

    public Task DisposeAsync()
    {
        _app.Dispose();
        return Task.CompletedTask;
    }

    private async Task<RoundResult> PlayAsync(long participantId, Func<int, int[]> choose)
    {
        var round = await Rounds.StartAsync(participantId, new StartRoundRequest(PlayWorld.CampaignId));
        for (var i = 0; i < round.Questions.Count; i++) await Rounds.AnswerAsync(participantId, new AnswerRequest(round.RoundId, i, choose(i)));
        return await Rounds.FinishAsync(participantId, new FinishRequest(round.RoundId));
    }

    private static Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done) => Eventually.ReadAsync(read, done, TimeSpan.FromSeconds(30));

    private sealed record Stat(string UnitKind, string UnitCode, string Day, long NewParticipants, long Participants, long Rounds, long Points);

    private async Task<Dictionary<(string, string, string), Stat>> StatsAsync()
    {
        await using var connection = await _app.Service<Database>().OpenAsync();
        var rows = await connection.QueryAsync<Stat>("""
            SELECT unit_kind AS UnitKind, unit_code AS UnitCode, day, new_participants AS NewParticipants, participants, rounds, points
            FROM unit_daily_stats WHERE campaign_id = @CampaignId
            """, new { PlayWorld.CampaignId });
        return rows.ToDictionary(r => (r.UnitKind, r.UnitCode, r.Day));
    }

    [Fact]
    public async Task DailyUnitStatisticsRollUpEveryLevelAndCountPeopleOnce()
    {
        var a = (await PlayWorld.RegisterAsync(_app, region: PlayWorld.County, organisation: PlayWorld.Bank)).Participant.ParticipantId;
        var b = (await PlayWorld.RegisterAsync(_app, region: PlayWorld.OtherCounty, organisation: null)).Participant.ParticipantId;
        var scores = new List<int>
        {
            (await PlayAsync(a, _ => [0])).Score,
            (await PlayAsync(a, _ => [1])).Score,
            (await PlayAsync(b, _ => [0])).Score,
        };
        _app.Clock.Advance(TimeSpan.FromDays(1));
        var dayTwo = (await PlayAsync(a, _ => [0])).Score;

        var stats = await EventuallyAsync(StatsAsync, s => s.TryGetValue(("region", PlayWorld.Province, "2024-06-13"), out var p) && p.Rounds == 1
            && s.TryGetValue(("region", PlayWorld.Province, "2024-06-12"), out var q) && q.Rounds == 3);

        Assert.Equal(new Stat("region", PlayWorld.Province, "2024-06-12", 2, 2, 3, scores.Sum()), stats[("region", PlayWorld.Province, "2024-06-12")]);
        Assert.Equal(new Stat("region", PlayWorld.City, "2024-06-12", 2, 2, 3, scores.Sum()), stats[("region", PlayWorld.City, "2024-06-12")]);
        Assert.Equal(new Stat("region", PlayWorld.County, "2024-06-12", 1, 1, 2, scores[0] + scores[1]), stats[("region", PlayWorld.County, "2024-06-12")]);
        Assert.Equal(new Stat("region", PlayWorld.OtherCounty, "2024-06-12", 1, 1, 1, scores[2]), stats[("region", PlayWorld.OtherCounty, "2024-06-12")]);
        Assert.Equal(new Stat("organisation", PlayWorld.Bank, "2024-06-12", 1, 1, 2, scores[0] + scores[1]), stats[("organisation", PlayWorld.Bank, "2024-06-12")]);
        // The next day the same person is a participant of the day again, but not a new one.
        Assert.Equal(new Stat("region", PlayWorld.Province, "2024-06-13", 0, 1, 1, dayTwo), stats[("region", PlayWorld.Province, "2024-06-13")]);
    }

    [Fact]
    public async Task QuestionStatisticsCountRightAnswersAndChosenOptions()
    {
        var players = new List<long>();
        for (var i = 0; i < 3; i++) players.Add((await PlayWorld.RegisterAsync(_app)).Participant.ParticipantId);
        foreach (var player in players) await PlayAsync(player, _ => [0]);

        await using var connection = await _app.Service<Database>().OpenAsync();
        var expected = (await connection.QueryAsync<(string QuestionId, string Chosen, long Correct)>(
            "SELECT question_id, chosen, correct FROM answers")).ToList();
        var stats = await EventuallyAsync(async () => (await connection.QueryAsync<(string QuestionId, long Answered, long Correct, long A, long B, long C, long D, long E, long F, long G, long H)>(
            $"SELECT question_id, answered, correct, {Quiz.Server.Events.QuestionStatsConsumer.ChosenColumns} FROM question_stats")).ToList(), s => s.Sum(r => r.Answered) == 15);

        Assert.Equal(15, stats.Sum(s => s.Answered));
        foreach (var (questionId, answered, correct, a, b, c, d, e, f, g, h) in stats)
        {
            var answers = expected.Where(e => e.QuestionId == questionId).ToList();
            Assert.Equal(answers.Count, answered);
            Assert.Equal(answers.Sum(a => a.Correct), correct);
            long[] counts = [a, b, c, d, e, f, g, h];
            for (var option = 0; option < 8; option++)
                Assert.Equal(answers.Count(a => a.Chosen.Contains((char)('A' + option))), counts[option]);
        }
    }

    [Fact]
    public async Task TheWatermarkIsKeptInTheStoreClaimsBelowItGoAndAnOldEventRedeliveredChangesNothing()
    {
        using var app = new QuizApplication().With("Bus:CatchUpInterval", "00:00:00.2");
        await PlayWorld.SeedAsync(app);
        var rounds = app.Service<RoundService>();
        for (var i = 0; i < 3; i++)
        {
            var player = (await PlayWorld.RegisterAsync(app)).Participant.ParticipantId;
            var round = await rounds.StartAsync(player, new StartRoundRequest(PlayWorld.CampaignId));
            for (var q = 0; q < round.Questions.Count; q++) await rounds.AnswerAsync(player, new AnswerRequest(round.RoundId, q, [i % 2]));
            await rounds.FinishAsync(player, new FinishRequest(round.RoundId));
        }
        await using var connection = await app.Service<Database>().OpenAsync();
        var highest = await connection.ExecuteScalarAsync<long>("SELECT MAX(id) FROM results");
        async Task<(long Marks, long Claims)> StateAsync() => (
            await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM projection_watermarks WHERE result_id = @highest", new { highest }),
            await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM projection_applied"));
        var state = await EventuallyAsync(StateAsync, s => s == (2, 0));
        Assert.Equal((2L, 0L), state); // both projections' watermarks at the last result, and no claim left below them
        Assert.Empty(await ProjectionCheck.DifferencesAsync(connection));

        // Every event again, as a broker redelivering old messages would: below the watermark, so none counts.
        // The projections count what they skipped once their transaction has committed: the test
        // waits for both to have seen every copy, then checks that nothing changed.
        using var skipped = new SkippedRounds(app.Service<QuizMetrics>());
        // The rounds above reach the projections by the catch-up even while the bus is still
        // starting; the copies below reach them only through queues already bound.
        await app.BusReadyAsync();
        var bus = app.Service<MassTransit.IBus>();
        var faults = new FaultedCopies();
        using var observing = bus.ConnectReceiveObserver(faults);
        var ids = (await connection.QueryAsync<long>("SELECT id FROM results")).ToList();
        foreach (var again in await Quiz.Server.Events.ProjectionCatchUp.LoadAsync(connection, app.Service<Quiz.Server.Units.UnitDirectory>(), ids))
            await bus.Publish(new RoundsCompleted([again]));
        var seen = await Eventually.ReadAsync(() => Task.FromResult(skipped.Count), n => n >= 2 * ids.Count, TimeSpan.FromSeconds(60));
        // A copy that failed every retry is left to the catch-up, which skips it as well; the
        // failures' own words say why rather than a bare count.
        Assert.True(faults.Messages.IsEmpty, "copies failed every retry: " + string.Join("; ", faults.Messages));
        Assert.Equal(2 * ids.Count, seen); // each projection saw each copy, and applied none
        Assert.Equal(0, skipped.Applied);
        Assert.Empty(await ProjectionCheck.DifferencesAsync(connection));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM projection_applied"));
    }

    /// <summary>What a consumer threw for a message once its retries were spent.</summary>
    private sealed class FaultedCopies : MassTransit.IReceiveObserver
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Messages { get; } = new();
        public Task PreReceive(MassTransit.ReceiveContext context) => Task.CompletedTask;
        public Task PostReceive(MassTransit.ReceiveContext context) => Task.CompletedTask;
        public Task PostConsume<T>(MassTransit.ConsumeContext<T> context, TimeSpan duration, string consumerType) where T : class => Task.CompletedTask;
        public Task ConsumeFault<T>(MassTransit.ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception) where T : class
        {
            Messages.Enqueue($"{consumerType}: {exception.GetType().Name}: {exception.Message}");
            return Task.CompletedTask;
        }
        public Task ReceiveFault(MassTransit.ReceiveContext context, Exception exception)
        {
            Messages.Enqueue($"receive: {exception.GetType().Name}: {exception.Message}");
            return Task.CompletedTask;
        }
    }

    /// <summary>The rounds this server's projections took from the bus, by outcome (the quiz.projection.rounds counter).</summary>
    private sealed class SkippedRounds : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _duplicate, _applied;
        public long Count => Interlocked.Read(ref _duplicate);
        public long Applied => Interlocked.Read(ref _applied);

        public SkippedRounds(QuizMetrics metrics)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, metrics.Meter) && instrument.Name == "quiz.projection.rounds") listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                    if (tag.Key == "outcome") Interlocked.Add(ref (string?)tag.Value == "duplicate" ? ref _duplicate : ref _applied, value);
            });
            _listener.Start();
        }

        public void Dispose() => _listener.Dispose();
    }
}
