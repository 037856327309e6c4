using Dapper;
using MassTransit;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Ranking.Tests;
using Quiz.Server.Play;
using Quiz.Server.Storage;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.ScaleOut;

/// <summary>
/// Rounds in play held in Redis (issue 13, <c>Rounds:Store = Redis</c>): two nodes in this process
/// on one PostgreSQL, one RabbitMQ and one Redis that the tests start. A round started on one node
/// is answered, resumed and finished on the other; a round whose node is gone is finished at its
/// deadline by the node left, once; and while Redis is away a node finishes the rounds it holds.
/// Each node has its own fake clock: the tests move both.
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed class RoundsInRedisTests(RabbitMqServerFixture broker, PostgresServerFixture postgres, RedisServerFixture redis)
    : IClassFixture<PostgresServerFixture>, IClassFixture<RedisServerFixture>, IDisposable
{
    private readonly Deployment _deployment = new(broker, postgres, "rounds-in-redis");

    public void Dispose() => _deployment.Dispose();

    /// <summary>A node that keeps rounds in play in the test's Redis, and pushes through it.</summary>
    private QuizApplication Node(string name, bool kestrel = false) => _deployment.Node(name, kestrel)
        .With("Rounds:Store", "Redis")
        .With("Rounds:Redis", redis.Configuration + ",asyncTimeout=1000,syncTimeout=1000")
        .With("SignalR:Redis", redis.Configuration);

    private static Task StartAsync(QuizApplication node) => node.BusReadyAsync();

    /// <summary>Two nodes of one deployment, seeded through the first.</summary>
    private async Task<(QuizApplication A, QuizApplication B)> TwoNodesAsync(bool kestrelA = false)
    {
        var a = Node("node-a", kestrelA);
        await StartAsync(a);
        await PlayWorld.SeedAsync(a);
        var b = Node("node-b");
        await StartAsync(b);
        return (a, b);
    }

    /// <summary>Both nodes' clocks move together, as the real ones do.</summary>
    private static void Advance(TimeSpan by, params QuizApplication[] nodes)
    {
        foreach (var node in nodes) node.Clock.Advance(by);
    }

    private static async Task<long> ResultsOfAsync(QuizApplication node, string roundId)
    {
        await using var connection = await node.Service<Database>().OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM results WHERE round_id = @roundId", new { roundId });
    }

    [Fact]
    public async Task ARoundStartedOnOneNodeIsAnsweredResumedAndFinishedOnTheOther()
    {
        var (a, b) = await TwoNodesAsync();
        var id = (await PlayWorld.RegisterAsync(a)).Participant.ParticipantId;
        var onA = a.Service<RoundService>();
        var onB = b.Service<RoundService>();
        var round = await onA.StartAsync(id, new StartRoundRequest(PlayWorld.CampaignId));

        // Answers go to either node, in turn; a repeat on the other node gets the first outcome.
        var given = new List<AnswerResult>();
        for (var i = 0; i < round.Questions.Count; i++)
        {
            Advance(TimeSpan.FromSeconds(3), a, b);
            given.Add(await (i % 2 == 0 ? onB : onA).AnswerAsync(id, new AnswerRequest(round.RoundId, i, [i % 2])));
            if (i == 1)
            {
                var resumed = await onB.CurrentAsync(id, PlayWorld.CampaignId);
                Assert.NotNull(resumed);
                Assert.Equal(round.RoundId, resumed.RoundId);
                Assert.Equal([0, 1], resumed.Answers.Select(g => g.Position));
                Assert.Equal(round.Deadline, resumed.Deadline);
            }
        }
        var repeat = await onA.AnswerAsync(id, new AnswerRequest(round.RoundId, 0, [1]));
        Assert.Equal(PlayWorld.ToJson(given[0]).ToString(), PlayWorld.ToJson(repeat).ToString());
        // A second start on the other node resumes the round instead of spending an attempt.
        Assert.Equal(round.RoundId, (await onB.StartAsync(id, new StartRoundRequest(PlayWorld.CampaignId))).RoundId);

        var result = await onB.FinishAsync(id, new FinishRequest(round.RoundId));
        Assert.False(result.AutoFinished);
        Assert.Equal(given.Count(g => g.Correct), result.Correct);
        Assert.Equal(given.Select((_, i) => (IReadOnlyList<int>)[i % 2]), result.Review.Select(r => r.Chosen));
        Assert.Equal(round.AttemptsLeft, result.AttemptsLeft);

        // The other node answers a repeated Finish with the same result, from the store; the round takes no more answers.
        var again = await onA.FinishAsync(id, new FinishRequest(round.RoundId));
        Assert.Equal((result.Score, result.Correct, result.DurationMs), (again.Score, again.Correct, again.DurationMs));
        var late = await Assert.ThrowsAsync<HubException>(() => onA.AnswerAsync(id, new AnswerRequest(round.RoundId, 0, [0])));
        Assert.StartsWith(PlayErrors.RoundFinished, late.Message);
        Assert.Null(await onA.CurrentAsync(id, PlayWorld.CampaignId));
        Assert.Equal(1, await ResultsOfAsync(b, round.RoundId));
    }

    [Fact]
    public async Task ARoundWhoseNodeIsGoneIsFinishedAtItsDeadlineByTheNodeLeft()
    {
        var (a, b) = await TwoNodesAsync();
        var id = (await PlayWorld.RegisterAsync(a)).Participant.ParticipantId;
        var round = await a.Service<RoundService>().StartAsync(id, new StartRoundRequest(PlayWorld.CampaignId));
        var first = await a.Service<RoundService>().AnswerAsync(id, new AnswerRequest(round.RoundId, 0, [0]));
        a.Dispose(); // node A is gone, its timers with it

        // Just before the deadline the round is still in play on B; just after, B finishes it.
        Advance(round.Deadline - round.ServerNow - TimeSpan.FromMilliseconds(300), b);
        Assert.NotNull(await b.Service<RoundService>().CurrentAsync(id, PlayWorld.CampaignId));
        Assert.Equal(0, await ResultsOfAsync(b, round.RoundId));
        Advance(TimeSpan.FromMilliseconds(600), b);
        Assert.Equal(1, await Eventually.ReadAsync(() => ResultsOfAsync(b, round.RoundId), n => n == 1, TimeSpan.FromSeconds(10)));

        var result = await b.Service<RoundService>().FinishAsync(id, new FinishRequest(round.RoundId));
        Assert.True(result.AutoFinished);
        Assert.Equal(first.Correct ? 1 : 0, result.Correct);
        Assert.Equal((int)(round.Deadline - round.StartedAt).TotalMilliseconds, result.DurationMs);
        Assert.Null(await b.Service<RoundService>().CurrentAsync(id, PlayWorld.CampaignId));
    }

    [Fact]
    public async Task WithBothNodesAliveARoundIsFinishedAtItsDeadlineOnceAndPushedOnce()
    {
        var (a, b) = await TwoNodesAsync(kestrelA: true);
        var player = await PlayWorld.ConnectPlayerAsync(a);
        await using var connection = player.Connection;
        var pushes = 0;
        var pushed = new TaskCompletionSource<RoundResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.On<RoundResult>(nameof(IPlayClient.RoundFinished), r =>
        {
            Interlocked.Increment(ref pushes);
            pushed.TrySetResult(r);
        });
        var round = await connection.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(PlayWorld.CampaignId));

        // Both nodes see the deadline pass at once, and both watch it.
        Advance(round.Deadline - round.ServerNow + TimeSpan.FromMilliseconds(300), a, b);
        var done = await Task.WhenAny(pushed.Task, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.True(done == pushed.Task, "the round was not pushed as finished at its deadline");
        Assert.True((await pushed.Task).AutoFinished);
        // Both nodes' watchers poll again (counted); neither finishes the round a second time.
        await BothPolledAsync(a, b, times: 3);
        Assert.Equal(1, pushes);
        Assert.Equal(1, await ResultsOfAsync(b, round.RoundId));
    }

    [Fact]
    public async Task WhileRedisIsAwayANodeFinishesTheRoundsItHoldsAndStartsAreRefusedWithTheirAttemptGivenBack()
    {
        var (a, b) = await TwoNodesAsync();
        var id = (await PlayWorld.RegisterAsync(a)).Participant.ParticipantId;
        var onA = a.Service<RoundService>();
        var round = await onA.StartAsync(id, new StartRoundRequest(PlayWorld.CampaignId));
        var given = new[]
        {
            await onA.AnswerAsync(id, new AnswerRequest(round.RoundId, 0, [0])),
            await onA.AnswerAsync(id, new AnswerRequest(round.RoundId, 1, [1])),
        };
        var other = (await PlayWorld.RegisterAsync(a)).Participant.ParticipantId;

        await redis.FreezeAsync();
        try
        {
            // An answer is not recorded (and says so); the finish commits what node A holds.
            await Assert.ThrowsAnyAsync<Exception>(() => onA.AnswerAsync(id, new AnswerRequest(round.RoundId, 2, [0])));
            var result = await onA.FinishAsync(id, new FinishRequest(round.RoundId));
            Assert.Equal(given.Count(g => g.Correct), result.Correct);
            Assert.Equal(2, result.Review.Count(r => r.Chosen.Count > 0));
            Assert.Equal(1, await ResultsOfAsync(a, round.RoundId));

            // A start is refused, and its attempt is given back.
            await Assert.ThrowsAnyAsync<Exception>(() => onA.StartAsync(other, new StartRoundRequest(PlayWorld.CampaignId)));
        }
        finally { await redis.ThawAsync(); }

        // Redis back: the round finished meanwhile is out of play everywhere, and nothing was counted twice.
        Assert.Null(await Eventually.ReadAsync(() =>
        {
            Advance(TimeSpan.FromMilliseconds(300), a, b); // the watchers' polls
            return b.Service<RoundService>().CurrentAsync(id, PlayWorld.CampaignId);
        }, r => r is null, TimeSpan.FromSeconds(10)));
        // Past the deadline: both watchers poll and find nothing left to finish.
        Advance(round.Deadline - round.ServerNow, a, b);
        await BothPolledAsync(a, b, times: 2);
        Assert.Equal(1, await ResultsOfAsync(b, round.RoundId));
        var started = await b.Service<RoundService>().StartAsync(other, new StartRoundRequest(PlayWorld.CampaignId));
        Assert.Equal(PlayWorld.Campaign().Stages[0].AttemptsPerDay - 1, started.AttemptsLeft);
    }

    /// <summary>
    /// Moves both clocks poll by poll until each node's deadline watcher has completed
    /// <paramref name="times"/> more polls: "nothing more happened" is asserted after the watchers
    /// looked, not after a sleep.
    /// </summary>
    private static async Task BothPolledAsync(QuizApplication a, QuizApplication b, int times)
    {
        var (fromA, fromB) = (a.Service<DeadlineWatcher>().Polls, b.Service<DeadlineWatcher>().Polls);
        var polls = await Eventually.ReadAsync(() =>
        {
            Advance(TimeSpan.FromMilliseconds(300), a, b);
            return Task.FromResult((A: a.Service<DeadlineWatcher>().Polls - fromA, B: b.Service<DeadlineWatcher>().Polls - fromB));
        }, p => p.A >= times && p.B >= times, TimeSpan.FromSeconds(10));
        Assert.True(polls.A >= times && polls.B >= times, $"the watchers polled {polls.A} and {polls.B} times");
    }
}
