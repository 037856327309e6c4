using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Ranking;
using Quiz.Ranking.Tests;
using Quiz.Server.Admin;
using Quiz.Server.Play;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Rankings;

/// <summary>
/// Rule 8 under faults, on the Redis engine with the server as a process: the server SIGKILLed
/// mid-burst, Redis frozen (SIGSTOP) mid-burst, Redis restarted empty mid-burst. Afterwards every
/// board, unit counter and headcount base equals a recomputation from the store, and nobody ran a
/// rebuild: the server heals itself.
/// </summary>
public sealed class RankingFaultTests : IAsyncLifetime
{
    private readonly RedisServerFixture _redis = new();
    private readonly ProcessWorld _world = new();
    // Sixteen players at full speed play ~150 rounds a second and would use up their 1,600
    // attempts (100 a day, the most a stage allows) before the last phase; paced, they last.
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(150);
    private const string AdminKey = "fault-test-admin-key";

    public Task InitializeAsync() => _redis.StartAsync();

    public async Task DisposeAsync()
    {
        await _redis.StopAsync();
        _world.Dispose();
    }

    private Task<ServerProcess> StartServerAsync() => _world.StartServerAsync(
        "--Ranking:Engine=Redis", $"--Ranking:Redis={_redis.Configuration}", "--Ranking:CheckInterval=00:00:01", $"--Admin:ApiKey={AdminKey}");

    [Fact]
    public async Task BoardsCountersAndBasesHealThemselvesAfterAKilledNodeAFrozenRedisAndARedisRestartedEmpty()
    {
        var tokens = new List<string>();
        (string Token, RoundResult Result) first;

        // 1. The node is SIGKILLed mid-burst: finishes committed but not yet ranked must not be lost.
        await using (var server = await StartServerAsync())
        {
            using var http = new HttpClient { BaseAddress = server.Address };
            for (var i = 0; i < 16; i++)
                tokens.Add(await ProcessWorld.RegisterAsync(server, http, i, i % 2 == 0 ? PlayWorld.County : PlayWorld.OtherCounty, i % 3 == 0 ? PlayWorld.Bank : null));
            await using var burst = new PlayerBurst(server, tokens, Pace);
            await burst.StartAsync();
            await burst.UntilAsync(200);
            // A reply whose ranks the store already keeps (they are written just after the reply,
            // so the last few before a kill may not be): its repeat after the restart must match.
            var acknowledged = burst.Acknowledged.Where(a => !a.Result.RankPending).ToDictionary(a => a.Result.RoundId);
            string? kept = null;
            await using (var store = _world.OpenStore())
                for (var i = 0; i < 200 && kept is null; i++)
                {
                    kept = (await Dapper.SqlMapper.QueryAsync<string>(store, "SELECT round_id FROM results WHERE national_rank IS NOT NULL"))
                        .FirstOrDefault(acknowledged.ContainsKey);
                    if (kept is null) await Task.Delay(50);
                }
            Assert.NotNull(kept);
            first = acknowledged[kept];
            server.Kill();
        }

        await using (var server = await StartServerAsync())
        {
            using var http = new HttpClient { BaseAddress = server.Address };
            http.DefaultRequestHeaders.Add(Quiz.Server.Admin.AdminKey.Header, AdminKey);

            // A repeated Finish, after a restart, answers what the first one said.
            await using (var hub = new HubConnectionBuilder()
                .WithUrl(new Uri(server.Address, "/hubs/play"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(first.Token)).Build())
            {
                await hub.StartAsync();
                var (said, again) = (first.Result, await hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(first.Result.RoundId)));
                Assert.Equal((said.Score, said.NationalRank, said.NationalBoardSize, said.UnitRank, said.UnitBoardSize, said.OrganisationRank, said.AttemptsLeft, said.RankPending),
                    (again.Score, again.NationalRank, again.NationalBoardSize, again.UnitRank, again.UnitBoardSize, again.OrganisationRank, again.AttemptsLeft, again.RankPending));
            }

            await using var burst = new PlayerBurst(server, tokens, Pace);
            await burst.StartAsync();
            await burst.UntilAsync(burst.Acknowledged.Count + 100);

            // 2. Redis frozen for 3 s mid-burst: finishes answer pending after a bounded wait,
            // reads answer from the cache, nothing fails.
            await _redis.FreezeAsync();
            var frozenAt = DateTime.UtcNow;
            try
            {
                await Task.Delay(500);
                using var me = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/rankings/{PlayWorld.CampaignId}/main/me")
                { Headers = { Authorization = new("Bearer", tokens[1]) } });
                Assert.Equal(HttpStatusCode.OK, me.StatusCode);
                using var units = await http.GetAsync($"/api/dashboard/{PlayWorld.CampaignId}/units");
                Assert.Equal(HttpStatusCode.OK, units.StatusCode);
                using var top = await http.GetAsync($"/api/rankings/{PlayWorld.CampaignId}/main/top");
                Assert.Equal(HttpStatusCode.OK, top.StatusCode);
                await Task.Delay(2500);
            }
            finally { await _redis.ThawAsync(); }
            var thawedAt = DateTime.UtcNow;
            await burst.UntilAsync(burst.Acknowledged.Count + 100);
            var duringFreeze = burst.Finishes.Where(f => f.At > frozenAt.AddMilliseconds(500) && f.At < thawedAt).ToList();
            Assert.NotEmpty(duringFreeze);
            Assert.Contains(duringFreeze, f => f.Pending);
            // Not the client library's 5 s timeout: the finish waits ~200 ms for the ranking, then answers.
            Assert.True(duringFreeze.Max(f => f.Ms) < 2000, $"slowest finish while Redis was frozen: {duringFreeze.Max(f => f.Ms):F0} ms");

            // 3. Redis restarted empty mid-burst: boards, counters and bases come back by themselves.
            await _redis.StopAsync();
            await Task.Delay(300);
            await _redis.StartAsync();
            await burst.UntilAsync(burst.Acknowledged.Count + 100);
            await burst.StopAsync();

            // No rebuild is asked for: the reconcile only compares.
            ReconcileReport? report = null;
            var waited = Stopwatch.StartNew();
            while (waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                using var response = await http.GetAsync($"/api/admin/rankings/{PlayWorld.CampaignId}/reconcile");
                // 503 while Redis is still coming back; a 500 would be a bug
                Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{string.Join("\n", server.Output.TakeLast(20))}");
                if (response.StatusCode == HttpStatusCode.OK && (report = await response.Content.ReadFromJsonAsync<ReconcileReport>())!.Matches) break;
                await Task.Delay(500);
            }
            Assert.True(report is { Matches: true }, $"{report?.DifferenceCount} differences: {string.Join("; ", report?.Differences.Take(10) ?? [])}");
            Assert.True(report!.BoardsChecked > 0 && report.MembersChecked >= 16, $"{report.BoardsChecked} boards, {report.MembersChecked} members");

            // The rates use the real headcounts again, not 0.
            using var rows = await http.GetAsync($"/api/rankings/{PlayWorld.CampaignId}/units?level=county");
            var body = await rows.Content.ReadAsStringAsync();
            Assert.DoesNotContain("\"headcount\":0", body);
        }
    }
}
