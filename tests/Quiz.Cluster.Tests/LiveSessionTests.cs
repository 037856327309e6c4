using System.Net.Http.Json;
using Dapper;
using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Cluster.Tests.Infrastructure;
using Quiz.Server.Live;
using static Quiz.Cluster.Tests.Infrastructure.ClusterWait;
using Xunit.Abstractions;

namespace Quiz.Cluster.Tests;

/// <summary>
/// Issue 16, item 5, on three nodes behind nginx: phones from addresses nginx spreads over every
/// node all reach the one node that runs their room (nginx hashes ?room=); that node is SIGKILLed
/// mid-question, and the room goes on on another node from the store: the same players, the scores
/// of every revealed question, the exports agreeing with what the phones were told.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LiveSessionTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private const int Phones = 6;

    private sealed record Player(Phone Phone, HubConnection Hub, LiveJoined Joined);

    [Fact]
    public async Task ARoomsPhonesAllReachItsNodeAndTheRoomGoesOnOnAnotherWhenThatNodeIsKilled()
    {
        await cluster.AllNodesUpAsync();
        var staff = cluster.NewPhone();
        using (var admin = cluster.NewPhone().Http)
        {
            admin.DefaultRequestHeaders.Add(Quiz.Server.Admin.AdminKey.Header, cluster.AdminKey);
            (await admin.PostAsJsonAsync("/api/admin/accounts", new { name = "live-host", password = "correct horse battery", role = "admin" })).EnsureSuccessStatusCode();
        }
        (await staff.Http.PostAsJsonAsync("/api/accounts/login", new { name = "live-host", password = "correct horse battery" })).EnsureSuccessStatusCode();
        var antiforgery = await staff.Http.GetFromJsonAsync<Quiz.Server.Accounts.AccountsApi.AntiforgeryToken>("/api/accounts/antiforgery");
        staff.Http.DefaultRequestHeaders.Add(antiforgery!.HeaderName, antiforgery.Token);
        using var created = await staff.Http.PostAsJsonAsync("/api/live/sessions", new
        {
            title = "三节点现场竞答",
            questions = new { track = "general", count = 3 },
            rounds = new[] { new { kind = "must-answer", questions = 3 } },
            questionSeconds = 120,
            speed = new { points = 1000, minShare = 0.5 },
        });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var json = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web) { Converters = { Quiz.Server.Hosting.JsonEnums.Converter() } };
        var session = (await created.Content.ReadFromJsonAsync<LiveSessionView>(json))!;

        async Task<HubConnection> HostAsync()
        {
            var hub = staff.Hub($"/hubs/live?room={session.Code}", null);
            await Phone.StartAsync(hub, output.WriteLine);
            return hub;
        }
        var host = await HostAsync();
        await host.InvokeAsync<LiveHostView>("Host", session.Id);

        // Phones from addresses of their own: ip_hash would spread them; the room's hash does not.
        var players = new List<Player>();
        for (var i = 0; i < Phones; i++)
        {
            var phone = cluster.NewPhone();
            var hub = phone.Hub($"/hubs/live?room={session.Code}", null);
            await Phone.StartAsync(hub, output.WriteLine);
            var joined = await hub.InvokeAsync<LiveJoined>("Join", new LiveJoinRequest(session.Code, $"观众{i}", cluster.Counties[i % cluster.Counties.Count], null));
            players.Add(new Player(phone, hub, joined));
        }
        var lobby = await host.InvokeAsync<LiveHostView>("Host", session.Id);
        Assert.Equal(Phones, lobby.Session.Audience);
        var owners = await EventuallyAsync(TimeSpan.FromSeconds(10), () => Task.FromResult(cluster.Logs.LiveOwners(session.Id)), o => o.Count > 0);
        // One node took the room, once: no phone reached another node (which would have taken it over).
        Assert.Equal([(1L, owners[0].Node)], owners);
        var first = owners[0].Node;
        output.WriteLine($"room {session.Code} runs on {first}");

        // Question 0: everyone answers, revealed and written.
        var shown = await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");
        var key = shown.Question!.Key;
        for (var i = 0; i < Phones; i++)
            await players[i].Hub.InvokeAsync<LiveAnswerAck>("Answer", new LiveAnswerRequest(session.Id, 0, i % 2 == 0 ? key : [key[0] == 0 ? 1 : 0]));
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "close");
        var revealed = await host.InvokeAsync<LiveHostView>("Command", session.Id, "reveal");
        var before = revealed.Top.ToDictionary(s => s.Nickname, s => s.Points);

        // Question 1 open, a few answers in; then the room's node dies.
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");
        await players[0].Hub.InvokeAsync<LiveAnswerAck>("Answer", new LiveAnswerRequest(session.Id, 1, [0]));
        await cluster.KillNodeAsync(int.Parse(first["quiz".Length..]));
        try
        {
            // Everyone comes back through nginx, which hashes the room to a node that is up.
            foreach (var p in players) await p.Hub.DisposeAsync();
            await host.DisposeAsync();
            host = (await EventuallyAsync<HubConnection?>(TimeSpan.FromSeconds(60), async () =>
            {
                try { return await HostAsync(); } catch (Exception) { return null; }
            }, h => h is not null))!;
            var resumed = await host.InvokeAsync<LiveHostView>("Host", session.Id);
            Assert.Equal((LivePhase.Revealed, 0, Phones), (resumed.Phase, resumed.Index, resumed.Session.Audience));
            Assert.Equal(before, resumed.Top.ToDictionary(s => s.Nickname, s => s.Points));
            var rejoined = new List<Player>();
            foreach (var p in players)
            {
                var hub = p.Phone.Hub($"/hubs/live?room={session.Code}", null);
                await Phone.StartAsync(hub, output.WriteLine);
                var again = await hub.InvokeAsync<LiveJoined>("Join", new LiveJoinRequest(session.Code, null, null, p.Joined.RejoinKey));
                Assert.Equal((p.Joined.PlayerId, p.Joined.Nickname), (again.PlayerId, again.Nickname));
                Assert.Equal(before[p.Joined.Nickname], again.You.Total);
                rejoined.Add(p with { Hub = hub, Joined = again });
            }
            var moved = await EventuallyAsync(TimeSpan.FromSeconds(10), () => Task.FromResult(cluster.Logs.LiveOwners(session.Id)), o => o.Count > 1);
            Assert.Equal(2, moved.Count); // taken over once, by one node
            Assert.NotEqual(first, moved[1].Node);
            output.WriteLine($"taken over by {moved[1].Node}");

            // The room goes on: question 1 again, everyone answers, revealed; the store agrees.
            var again1 = await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");
            Assert.Equal(1, again1.Index);
            foreach (var p in rejoined)
                await p.Hub.InvokeAsync<LiveAnswerAck>("Answer", new LiveAnswerRequest(session.Id, 1, again1.Question!.Key));
            await host.InvokeAsync<LiveHostView>("Command", session.Id, "close");
            var after = await host.InvokeAsync<LiveHostView>("Command", session.Id, "reveal");
            await using var store = cluster.OpenStore();
            var stored = (await store.QueryAsync<(string Nickname, long Points)>("""
                SELECT p.nickname, COALESCE(SUM(a.points), 0)::bigint FROM live_players p
                LEFT JOIN live_answers a ON a.session_id = p.session_id AND a.player_id = p.id
                WHERE p.session_id = @id GROUP BY p.nickname
                """, new { id = session.Id })).ToDictionary(r => r.Nickname, r => r.Points);
            Assert.Equal(Phones, stored.Count);
            Assert.Equal(after.Top.ToDictionary(s => s.Nickname, s => (long)s.Points), stored);
            Assert.Equal([0L, 1L], await store.QueryAsync<long>("SELECT question_index FROM live_questions WHERE session_id = @id ORDER BY 1", new { id = session.Id }));
            foreach (var p in rejoined) await p.Hub.DisposeAsync();
        }
        finally
        {
            await host.DisposeAsync();
            await cluster.AllNodesUpAsync();
        }
    }
}
