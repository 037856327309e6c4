using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Dapper;
using Quiz.Server.Play;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Play;

/// <summary>
/// The daily attempt cap holds in the store, not in a node's memory: two server processes on one
/// store, 100 concurrent starts of one participant split between them, never above the cap.
/// </summary>
public sealed class AttemptCapTests : IDisposable
{
    private const int Cap = 3;
    private readonly ProcessWorld _world = new(attemptsPerDay: Cap);

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task ConcurrentStartsOnTwoNodesNeverPassTheDailyCap()
    {
        await using var a = await _world.StartServerAsync();
        await using var b = await _world.StartServerAsync();
        using var http = new HttpClient { BaseAddress = a.Address };
        var token = await ProcessWorld.RegisterAsync(a, http, 1, PlayWorld.County);

        var hubs = new List<HubConnection>();
        foreach (var node in new[] { a, b })
            for (var i = 0; i < 5; i++)
            {
                var hub = new HubConnectionBuilder()
                    .WithUrl(new Uri(node.Address, "/hubs/play"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token)).Build();
                await hub.StartAsync();
                hubs.Add(hub);
            }

        var rounds = new ConcurrentBag<string>();
        var refused = new ConcurrentBag<string>();
        // 100 starts in all: every worker starts and finishes at once, again and again, so every
        // start that is not refused wants a new attempt, until the store says none is left.
        var starts = 0;
        await Task.WhenAll(hubs.Select(async hub =>
        {
            while (Interlocked.Increment(ref starts) <= 100)
            {
                try
                {
                    var round = await hub.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(PlayWorld.CampaignId));
                    rounds.Add(round.RoundId);
                    await hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId));
                }
                catch (HubException e)
                {
                    refused.Add(e.Message);
                    break;
                }
            }
        }));
        foreach (var hub in hubs) await hub.DisposeAsync();

        Assert.Equal(Cap, rounds.Distinct().Count());
        Assert.Equal(hubs.Count, refused.Count); // every worker ends refused
        Assert.All(refused, m => Assert.Contains("no-attempts-left", m));
        await using var store = _world.OpenStore();
        Assert.Equal(rounds.Distinct().Count(), await store.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM rounds WHERE status <> 'void'"));
        Assert.Equal(rounds.Distinct().Count(), await store.ExecuteScalarAsync<int>("SELECT SUM(used) FROM attempts"));
    }
}
