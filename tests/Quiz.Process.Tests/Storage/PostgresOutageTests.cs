using Dapper;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Server.Play;
using Quiz.Server.Storage;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Storage;

/// <summary>
/// The node on PostgreSQL (a real one of its own) while PostgreSQL stops and comes back: finishes
/// are refused with a clear error and nothing is acknowledged or half-written meanwhile, and the
/// node carries on by itself once PostgreSQL is back.
/// </summary>
public sealed class PostgresOutageTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>, IDisposable
{
    private readonly ProcessWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task FinishesAreRefusedClearlyWhilePostgresIsDownAndPlayGoesOnWhenItReturns()
    {
        await using var server = await _world.StartServerAsync(postgres.ServerSettings(_world.DataDir));
        using var http = new HttpClient { BaseAddress = server.Address };
        var hubs = new List<HubConnection>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var token = await ProcessWorld.RegisterAsync(server, http, i, PlayWorld.County);
                var hub = new HubConnectionBuilder()
                    .WithUrl(new Uri(server.Address, "/hubs/play"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
                    .Build();
                await hub.StartAsync();
                hubs.Add(hub);
            }
            var acknowledged = new List<RoundResult>();
            foreach (var hub in hubs) acknowledged.Add(await PlayAsync(hub, await StartAndAnswerAsync(hub)));

            // Rounds in play, every question answered, when PostgreSQL goes away.
            var open = new List<RoundView>();
            foreach (var hub in hubs) open.Add(await StartAndAnswerAsync(hub));
            await WaitForStartsAsync(open.Count + acknowledged.Count);
            await postgres.StopAsync();

            for (var i = 0; i < hubs.Count; i++)
            {
                var refused = await Assert.ThrowsAsync<HubException>(() => hubs[i].InvokeAsync<RoundResult>("Finish", new FinishRequest(open[i].RoundId)));
                Assert.True(refused.Message.Contains($"HubException: {StoreUnavailableFilter.Code}:"), $"{refused.Message}\n{server.Log}");
            }
            var noStart = await Assert.ThrowsAsync<HubException>(() => hubs[0].InvokeAsync<RoundView>("StartRound", new StartRoundRequest(PlayWorld.CampaignId)));
            Assert.True(noStart.Message.Contains($"HubException: {StoreUnavailableFilter.Code}:"), $"{noStart.Message}\n{server.Log}");

            await postgres.StartAsync();
            await using (var connection = _world.OpenStoreOn(postgres))
            {
                // Nothing of the refused finishes is in the store, and no result lacks its answers.
                Assert.Equal(acknowledged.Select(r => r.RoundId).Order(), (await connection.QueryAsync<string>("SELECT round_id FROM results")).Order());
                Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
                    "SELECT COUNT(*) FROM results r WHERE (SELECT COUNT(*) FROM answers a WHERE a.result_id = r.id) <> 5"));
            }

            // Back: the same finishes go through now (the player's retry), and new rounds play.
            for (var i = 0; i < hubs.Count; i++)
            {
                var result = await hubs[i].InvokeAsync<RoundResult>("Finish", new FinishRequest(open[i].RoundId));
                Assert.Equal(open[i].RoundId, result.RoundId);
                acknowledged.Add(result);
            }
            foreach (var hub in hubs) acknowledged.Add(await PlayAsync(hub, await StartAndAnswerAsync(hub)));

            await using (var connection = _world.OpenStoreOn(postgres))
            {
                var stored = (await connection.QueryAsync<(string RoundId, long Score)>("SELECT round_id, score FROM results")).ToList();
                Assert.Equal(acknowledged.Select(r => (r.RoundId, (long)r.Score)).Order(), stored.Order());
                Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
                    "SELECT COUNT(*) FROM results r WHERE (SELECT COUNT(*) FROM answers a WHERE a.result_id = r.id) <> 5"));
            }
        }
        finally
        {
            foreach (var hub in hubs) await hub.DisposeAsync();
        }

        async Task WaitForStartsAsync(int count)
        {
            // A start is committed behind the reply (only a finish must be durable first): wait for the store to have them all.
            await using var connection = _world.OpenStoreOn(postgres);
            for (var i = 0; i < 200 && await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rounds") < count; i++) await Task.Delay(50);
            Assert.Equal(count, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rounds"));
        }
    }

    private static async Task<RoundView> StartAndAnswerAsync(HubConnection hub)
    {
        var round = await hub.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(PlayWorld.CampaignId));
        for (var q = 0; q < round.Questions.Count; q++) await hub.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, q, [0]));
        return round;
    }

    private static Task<RoundResult> PlayAsync(HubConnection hub, RoundView round) =>
        hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId));
}
