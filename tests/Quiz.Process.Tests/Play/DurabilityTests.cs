using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Data.Sqlite;
using Quiz.Server.Participants;
using Quiz.Server.Play;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Play;

/// <summary>Rule 2 under a SIGKILL: every round whose Finish was acknowledged is in the store exactly once.</summary>
public sealed class DurabilityTests : IDisposable
{
    private readonly ProcessWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task EveryAcknowledgedRoundSurvivesAKillMidBurst()
    {
        var acknowledged = new ConcurrentBag<(string RoundId, int Score)>();
        var errors = new ConcurrentBag<Exception>();
        var players = new List<(string Token, HubConnection Hub)>();
        await using (var server = await _world.StartServerAsync())
        {
            using var http = new HttpClient { BaseAddress = server.Address };
            for (var i = 0; i < 24; i++)
            {
                var token = await ProcessWorld.RegisterAsync(server, http, i, i % 2 == 0 ? PlayWorld.County : PlayWorld.OtherCounty);
                var hub = new HubConnectionBuilder()
                    .WithUrl(new Uri(server.Address, "/hubs/play"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
                    .Build();
                await hub.StartAsync();
                players.Add((token, hub));
            }

            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // bounded, whatever happens
            var burst = players.Select(p => Task.Run(async () =>
            {
                try
                {
                    while (!stop.IsCancellationRequested)
                    {
                        var round = await p.Hub.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(PlayWorld.CampaignId), stop.Token);
                        for (var q = 0; q < round.Questions.Count; q++)
                            await p.Hub.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, q, [0]), stop.Token);
                        var result = await p.Hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId), stop.Token);
                        acknowledged.Add((result.RoundId, result.Score));
                    }
                }
                catch (Exception e) { errors.Add(e); } // the server is gone: that is the point
            })).ToList();

            while (acknowledged.Count < 300 && !stop.IsCancellationRequested && errors.IsEmpty) await Task.Delay(20);
            Assert.True(errors.IsEmpty, $"{errors.FirstOrDefault()?.Message}\n{string.Join("\n", server.Output)}");
            server.Kill(); // mid-burst: 24 players are starting, answering and finishing right now
            await Task.WhenAll(burst).WaitAsync(TimeSpan.FromSeconds(30));
        }
        foreach (var (_, hub) in players) await hub.DisposeAsync();

        Assert.True(acknowledged.Count >= 300, $"only {acknowledged.Count} rounds were acknowledged: {errors.FirstOrDefault()}");
        await using (var connection = _world.OpenStore())
        {
            var stored = (await connection.QueryAsync<(string RoundId, long Score)>("SELECT round_id, score FROM results"))
                .GroupBy(r => r.RoundId).ToDictionary(g => g.Key, g => g.ToList());
            foreach (var (roundId, score) in acknowledged)
            {
                Assert.True(stored.TryGetValue(roundId, out var rows), $"acknowledged round {roundId} is missing");
                Assert.Equal(score, Assert.Single(rows).Score);
            }
        }

        // The server comes back on the same store and plays on, its boards rebuilt from the store.
        await using var again = await _world.StartServerAsync();
        var (token2, _) = players[0];
        await using var hub2 = new HubConnectionBuilder()
            .WithUrl(new Uri(again.Address, "/hubs/play"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token2))
            .Build();
        await hub2.StartAsync();
        Assert.Null(await hub2.InvokeAsync<RoundView?>("CurrentRound", PlayWorld.CampaignId)); // interrupted rounds were voided
        var next = await hub2.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(PlayWorld.CampaignId));
        var final = await hub2.InvokeAsync<RoundResult>("Finish", new FinishRequest(next.RoundId));
        Assert.False(final.RankPending);
        Assert.NotNull(final.NationalRank);
        SqliteConnection.ClearAllPools();
    }
}
