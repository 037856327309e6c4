using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Cluster.Tests.Infrastructure;
using static Quiz.Cluster.Tests.Infrastructure.ClusterWait;
using Quiz.Ranking;
using Quiz.Server.Play;
using Quiz.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Quiz.Cluster.Tests;

/// <summary>
/// Rule 8 across nodes: three nodes behind nginx, one SIGKILLed. What a node acknowledged is in
/// the shared store and reachable through the others; the projections, boards and unit counters
/// heal to a recomputation from the store; the daily cap holds across nodes. Every request goes
/// through nginx, from phones of their own addresses.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class NodeLossTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private const int Participants = 240;

    /// <summary>
    /// One attempt to connect through nginx while it finds the killed node gone. SignalR negotiates
    /// first and then opens the WebSocket with the connection id it was given: when nginx sends
    /// the two requests to different nodes during its failover, the second answers 404, and the
    /// client reports that as an AggregateException of transport failures (a CI run). A phone's
    /// client tries again, as this does.
    /// </summary>
    private static async Task<bool> TryStartAsync(HubConnection hub)
    {
        try
        {
            await hub.StartAsync();
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or System.Net.WebSockets.WebSocketException or IOException
            || e is AggregateException all && all.InnerExceptions.All(i => i is Microsoft.AspNetCore.Http.Connections.Client.TransportFailedException))
        {
            return false;
        }
    }

    [Fact]
    public async Task EveryAcknowledgedFinishIsStoredOnceAndEveryProjectionMatchesTheStoreWhenANodeIsKilledMidBurst()
    {
        output.WriteLine($"cluster up in {cluster.StartedIn.TotalSeconds:F0} s");
        await cluster.AllNodesUpAsync();
        var clock = Stopwatch.StartNew();

        // Registration through nginx, each phone from its own address.
        var phones = Enumerable.Range(0, Participants).Select(_ => cluster.NewPhone()).ToList();
        var players = new ClusterPlayer[Participants];
        await Parallel.ForEachAsync(Enumerable.Range(0, Participants), new ParallelOptions { MaxDegreeOfParallelism = 24 }, async (i, _) =>
        {
            var (registered, node) = await phones[i].RegisterAsync(cluster, cluster.Counties[i % cluster.Counties.Count]);
            players[i] = new ClusterPlayer(phones[i], registered.Token, registered.Participant.ParticipantId, node);
        });
        var perNode = players.GroupBy(p => p.Node).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"{Participants} registered in {clock.Elapsed.TotalSeconds:F0} s: {string.Join(", ", perNode.OrderBy(n => n.Key).Select(n => $"{n.Key} {n.Value}"))}");
        Assert.True(perNode.Count == ClusterFixture.Nodes, $"nginx spread the phones over {perNode.Count} nodes only");

        // The burst: everyone plays the day's three rounds; node 2 is SIGKILLed when about a third are acknowledged.
        const int victim = 2;
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var play = players.Select(p => Task.Run(() => p.PlayAsync(stop.Token))).ToList();
        DateTime killedAt;
        var killed = false;
        try
        {
            var waited = Stopwatch.StartNew();
            while (players.Sum(p => p.Acknowledged.Count) < Participants && waited.Elapsed < TimeSpan.FromSeconds(120) && players.All(p => p.Errors.Count == 0))
                await Task.Delay(50);
            Assert.True(players.Sum(p => p.Acknowledged.Count) >= Participants,
                $"only {players.Sum(p => p.Acknowledged.Count)} rounds acknowledged before the kill; " +
                $"{players.Sum(p => p.Errors.Count)} players failed, the first: {players.SelectMany(p => p.Errors).FirstOrDefault()}");
            await cluster.KillNodeAsync(victim);
            killed = true;
            killedAt = DateTime.UtcNow;
            output.WriteLine($"killed quiz{victim} at {clock.Elapsed.TotalSeconds:F0} s, {players.Sum(p => p.Acknowledged.Count)} rounds acknowledged");
            await Task.WhenAll(play).WaitAsync(TimeSpan.FromMinutes(4));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(play).WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { });
            if (killed) await cluster.StartNodeAsync(victim);
        }
        var acknowledged = players.SelectMany(p => p.Acknowledged.Select(a => (Player: p, a.Result, a.At))).ToList();
        output.WriteLine($"burst done at {clock.Elapsed.TotalSeconds:F0} s: {acknowledged.Count} rounds acknowledged, " +
            $"{players.Sum(p => p.Reconnections)} reconnections, {players.Sum(p => p.LostRounds)} rounds lost with the node");

        // Nobody failed; the victim's phones went on through the other nodes.
        var errors = players.SelectMany(p => p.Errors).ToList();
        Assert.True(errors.Count == 0, $"{errors.Count} players failed ({players.Where(p => p.Errors.Count > 0).Count(p => p.Node == $"quiz{victim}")} of them on quiz{victim}), " +
            $"the first: {errors.FirstOrDefault()}");
        var victims = players.Where(p => p.Node == $"quiz{victim}").ToList();
        Assert.True(victims.Sum(p => p.Reconnections) > 0, "no phone of the killed node had to reconnect: the kill came too late to test anything");
        Assert.True(victims.SelectMany(p => p.Acknowledged).Any(a => a.At > killedAt), "no phone of the killed node finished a round after it died");
        Assert.True(players.Where(p => p.Node != $"quiz{victim}").All(p => p.Reconnections == 0), "a phone of a node that stayed up was disconnected");
        // The rounds in play are in Redis: none died with the node.
        Assert.True(players.Sum(p => p.LostRounds) == 0, $"{players.Sum(p => p.LostRounds)} rounds in play were lost with the node");

        await using var store = cluster.OpenStore();
        await store.OpenAsync();

        // Every acknowledged finish is in the store exactly once, with the score it was told.
        var stored = (await store.QueryAsync<(string RoundId, long ParticipantId, int Score)>(
                "SELECT round_id, participant_id, score FROM results WHERE round_id = ANY(@ids)", new { ids = acknowledged.Select(a => a.Result.RoundId).Distinct().ToArray() }))
            .GroupBy(r => r.RoundId).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var (player, result, _) in acknowledged)
        {
            Assert.True(stored.TryGetValue(result.RoundId, out var rows), $"acknowledged round {result.RoundId} of participant {player.ParticipantId} is not in the store");
            Assert.Single(rows);
            Assert.Equal((player.ParticipantId, result.Score), (rows[0].ParticipantId, rows[0].Score));
        }
        Assert.Equal(acknowledged.Count, acknowledged.Select(a => a.Result.RoundId).Distinct().Count());

        // The daily cap held across nodes: stored results, rounds that hold an attempt, and the attempt counters.
        var ids = players.Select(p => p.ParticipantId).ToArray();
        var overCap = (await store.QueryAsync<string>("""
            SELECT 'results ' || participant_id || ' ' || day || ': ' || COUNT(*) FROM results
             WHERE participant_id = ANY(@ids) AND campaign_id = @campaign GROUP BY participant_id, day HAVING COUNT(*) > @cap
            UNION ALL
            SELECT 'rounds ' || participant_id || ' ' || day || ': ' || COUNT(*) FROM rounds
             WHERE participant_id = ANY(@ids) AND campaign_id = @campaign AND status <> 'void' GROUP BY participant_id, day HAVING COUNT(*) > @cap
            UNION ALL
            SELECT 'attempts ' || participant_id || ' ' || day || ': ' || used FROM attempts
             WHERE participant_id = ANY(@ids) AND campaign_id = @campaign AND used > @cap
            """, new { ids, campaign = ClusterFixture.Campaign, cap = ClusterFixture.AttemptsPerDay })).ToList();
        Assert.True(overCap.Count == 0, "above the daily cap: " + string.Join("; ", overCap.Take(10)));
        Assert.All(players, p => Assert.True(p.Acknowledged.Count <= ClusterFixture.AttemptsPerDay));

        // The projections (unit_daily_stats, question_stats) equal a recomputation from the store:
        // the killed node's commits whose events never left are caught up by the others.
        var differences = await EventuallyAsync(TimeSpan.FromSeconds(90), () => ProjectionCheck.DifferencesAsync(store), d => d.Count == 0);
        Assert.True(differences.Count == 0, $"{differences.Count} projection differences: {string.Join("; ", differences.Take(10))}");

        // The boards, unit counters and headcount bases in Redis equal a recomputation from the store.
        using var admin = cluster.NewPhone().Http;
        admin.DefaultRequestHeaders.Add(Quiz.Server.Admin.AdminKey.Header, cluster.AdminKey);
        var report = await EventuallyAsync(TimeSpan.FromSeconds(90), async () =>
        {
            using var response = await admin.GetAsync($"/api/admin/rankings/{ClusterFixture.Campaign}/reconcile");
            return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<ReconcileReport>() : null;
        }, r => r is { Matches: true });
        Assert.True(report is { Matches: true }, $"{report?.DifferenceCount} ranking differences: {string.Join("; ", report?.Differences.Take(10) ?? [])}");
        Assert.True(report!.MembersChecked >= acknowledged.Select(a => a.Player.ParticipantId).Distinct().Count(), $"{report.MembersChecked} members checked");
        output.WriteLine($"checked at {clock.Elapsed.TotalSeconds:F0} s: {report.BoardsChecked} boards, {report.MembersChecked} members");
    }

    [Fact]
    public async Task AFinishedRoundIsServedByAnotherNodeAfterTheNodeThatPlayedItIsKilled()
    {
        await cluster.AllNodesUpAsync();
        var phone = cluster.NewPhone();
        var (registered, registeredOn) = await phone.RegisterAsync(cluster, cluster.Counties[0]);

        RoundResult result;
        await using (var hub = phone.Hub(registered.Token))
        {
            await Phone.StartAsync(hub, output.WriteLine);
            var round = await hub.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(ClusterFixture.Campaign));
            for (var q = 0; q < round.Questions.Count; q++)
            {
                await Task.Delay(ClusterPlayer.ThinkTime);
                await hub.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, q, [0]));
            }
            result = await hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId));
        }

        // The node that played it, as the store records it: the one nginx keeps this phone on.
        await using (var store = cluster.OpenStore())
        {
            var node = await store.ExecuteScalarAsync<string>("SELECT node FROM rounds WHERE id = @id", new { id = result.RoundId });
            Assert.Equal(registeredOn, node);
        }
        var served = int.Parse(registeredOn["quiz".Length..]);
        await cluster.KillNodeAsync(served);
        try
        {
            // The same phone, through nginx, now reaches another node: the round answers from the store.
            RoundResult again;
            await using (var hub = phone.Hub(registered.Token))
            {
                await EventuallyAsync(TimeSpan.FromSeconds(30), () => TryStartAsync(hub), connected => connected);
                Assert.Equal(HubConnectionState.Connected, hub.State);
                again = await hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(result.RoundId));
            }
            Assert.Equal((result.RoundId, result.Score, result.Correct, result.DurationMs, result.AttemptsLeft),
                (again.RoundId, again.Score, again.Correct, again.DurationMs, again.AttemptsLeft));
            if (!result.RankPending && !again.RankPending) Assert.Equal(result.NationalRank, again.NationalRank);

            // And the participant's standing, read over HTTP from another node, holds the round's score.
            var standing = await EventuallyAsync(TimeSpan.FromSeconds(30), async () =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/rankings/{ClusterFixture.Campaign}/{ClusterFixture.Stage}/me");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", registered.Token);
                using var response = await phone.Http.SendAsync(request);
                if (response.StatusCode != HttpStatusCode.OK) return (int?)null;
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                return body.RootElement.GetProperty("national") is { ValueKind: JsonValueKind.Object } national ? national.GetProperty("score").GetInt32() : (int?)null;
            }, score => score == result.Score);
            Assert.Equal(result.Score, standing);
        }
        finally
        {
            await cluster.StartNodeAsync(served);
        }
    }

    [Fact]
    public async Task APhoneWhoseNodeIsKilledMidRoundCarriesOnWithTheRoundOnAnotherNodeAndGetsTheRightScoreAndRank()
    {
        await cluster.AllNodesUpAsync();
        // Registered through one node; the round played from an address nginx sends to another
        // (the person's phone changed networks, as phones do), found by registering someone through it.
        var (_, registered, registeredOn) = await cluster.PhoneOnAsync(_ => true);
        var (phone, _, playedOn) = await cluster.PhoneOnAsync(node => node != registeredOn);
        output.WriteLine($"registered on {registeredOn}, playing on {playedOn}");
        var hub = phone.Hub(registered.Token);
        var served = 0;
        try
        {
            await Phone.StartAsync(hub, output.WriteLine);
            var round = await hub.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(ClusterFixture.Campaign));
            var given = new List<AnswerResult>();
            for (var q = 0; q < 2; q++)
            {
                await Task.Delay(ClusterPlayer.ThinkTime);
                given.Add(await hub.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, q, [q % 2])));
            }

            // The node serving the phone (nginx keeps an address on one node) dies mid-round.
            await using (var store = cluster.OpenStore())
                Assert.Equal(playedOn, await store.ExecuteScalarAsync<string>("SELECT node FROM rounds WHERE id = @id", new { id = round.RoundId }));
            served = int.Parse(playedOn["quiz".Length..]);
            await cluster.KillNodeAsync(served);

            // The phone connects again through nginx, reaches another node, and finds its round as it left it.
            await hub.DisposeAsync();
            hub = phone.Hub(registered.Token);
            await EventuallyAsync(TimeSpan.FromSeconds(30), () => TryStartAsync(hub), connected => connected);
            Assert.Equal(HubConnectionState.Connected, hub.State);
            var resumed = await hub.InvokeAsync<RoundView?>("CurrentRound", ClusterFixture.Campaign);
            Assert.NotNull(resumed);
            Assert.Equal((round.RoundId, round.Deadline), (resumed.RoundId, resumed.Deadline));
            Assert.Equal([0, 1], resumed.Answers.Select(a => a.Position));
            Assert.True(resumed.ServerNow < resumed.Deadline, "the round's time ran out while the phone reconnected");

            // The last answer finishes the round (finish: true, as the phone page sends it), on this node.
            for (var q = 2; q < resumed.Questions.Count; q++)
            {
                await Task.Delay(ClusterPlayer.ThinkTime);
                given.Add(await hub.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, q, [q % 2], Finish: q == resumed.Questions.Count - 1)));
            }
            var result = Assert.IsType<RoundResult>(given[^1].Result);
            Assert.Equivalent(result, await hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId)), strict: true);

            // The right score: every answer, those given before the node died too, counted once.
            Assert.Equal(given.Count(g => g.Correct), result.Correct);
            Assert.Equal(given.Select((_, q) => (IReadOnlyList<int>)[q % 2]), result.Review.Select(r => r.Chosen));
            Assert.False(result.AutoFinished);
            await using (var store = cluster.OpenStore())
            {
                var (score, correct, rounds) = await store.QuerySingleAsync<(int, int, long)>(
                    "SELECT score, correct, (SELECT COUNT(*) FROM results WHERE round_id = @id) FROM results WHERE round_id = @id", new { id = round.RoundId });
                Assert.Equal((result.Score, result.Correct, 1L), (score, correct, rounds));
            }

            // And the right rank: the one the boards give the person now (nobody else plays meanwhile).
            Assert.False(result.RankPending, "the finish's rank is pending");
            var national = await EventuallyAsync(TimeSpan.FromSeconds(30), async () =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/rankings/{ClusterFixture.Campaign}/{ClusterFixture.Stage}/me");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", registered.Token);
                using var response = await phone.Http.SendAsync(request);
                if (response.StatusCode != HttpStatusCode.OK) return ((long Rank, int Score)?)null;
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                return body.RootElement.GetProperty("national") is { ValueKind: JsonValueKind.Object } n
                    ? (n.GetProperty("rank").GetInt64(), n.GetProperty("score").GetInt32()) : null;
            }, standing => standing is not null);
            Assert.Equal((result.NationalRank, result.Score), (national?.Rank, national?.Score));
        }
        finally
        {
            await hub.DisposeAsync();
            if (served > 0) await cluster.StartNodeAsync(served);
        }
    }
}
