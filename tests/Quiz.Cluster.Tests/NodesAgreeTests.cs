using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Cluster.Tests.Infrastructure;
using Quiz.Server.Dashboard;
using Quiz.Server.Play;
using Xunit.Abstractions;

namespace Quiz.Cluster.Tests;

/// <summary>
/// The nodes behind nginx agree: a dashboard on one node is pushed what a finish on another caused,
/// and a question bank saved through one node is what another draws next. Each phone reaches the
/// node nginx hashes its address to, which its registration tells.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class NodesAgreeTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private const string Revised = "（修订）";

    [Fact]
    public async Task ADashboardOnOneNodeIsPushedAFinishMadeOnAnotherWithinTwoSeconds()
    {
        await cluster.AllNodesUpAsync();
        var (watcher, _, dashboardNode) = await cluster.PhoneOnAsync(_ => true);
        var (player, registered, playerNode) = await cluster.PhoneOnAsync(node => node != dashboardNode);
        var token = registered.Token;
        output.WriteLine($"dashboard on {dashboardNode}, player on {playerNode}");

        // A national admin's dashboard, open on its node: the board fetched, the hub connected.
        using (var admin = cluster.NewPhone().Http)
        {
            admin.DefaultRequestHeaders.Add(Quiz.Server.Admin.AdminKey.Header, cluster.AdminKey);
            (await admin.PostAsJsonAsync("/api/admin/accounts", new { name = "watcher", password = "correct horse battery", role = "admin" })).EnsureSuccessStatusCode();
        }
        using (var login = await watcher.Http.PostAsJsonAsync("/api/accounts/login", new { name = "watcher", password = "correct horse battery" }))
            Assert.True(login.IsSuccessStatusCode, $"login: {login.StatusCode}");
        using (var units = await watcher.Http.GetAsync($"/api/dashboard/{ClusterFixture.Campaign}/units"))
            Assert.True(units.IsSuccessStatusCode, $"the dashboard's units: {units.StatusCode} {await units.Content.ReadAsStringAsync()}");
        var pushes = new System.Collections.Concurrent.ConcurrentQueue<long>();
        await using var dashboard = watcher.Hub("/hubs/dashboard", null);
        dashboard.On<UnitsChanged>("UnitsChanged", change =>
        {
            if (change.CampaignId == ClusterFixture.Campaign) pushes.Enqueue(Stopwatch.GetTimestamp());
        });
        await Phone.StartAsync(dashboard, output.WriteLine);

        // A round played and finished on the other node.
        await using var hub = player.Hub(token);
        await Phone.StartAsync(hub, output.WriteLine);
        var round = await hub.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(ClusterFixture.Campaign));
        for (var q = 0; q < round.Questions.Count; q++)
        {
            await Task.Delay(ClusterPlayer.ThinkTime);
            await hub.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, q, [0]));
        }
        await Task.Delay(TimeSpan.FromSeconds(3)); // whatever the registrations moved is pushed by now
        pushes.Clear();
        await hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId));
        var finished = Stopwatch.GetTimestamp();

        var waited = Stopwatch.StartNew();
        while (pushes.IsEmpty && waited.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20);
        Assert.True(pushes.TryPeek(out var at), $"the dashboard on {dashboardNode} was not pushed the finish made on {playerNode}");
        var took = Stopwatch.GetElapsedTime(finished, at);
        output.WriteLine($"pushed {took.TotalMilliseconds:F0} ms after the finish");
        Assert.True(took < TimeSpan.FromSeconds(2), $"the push reached {dashboardNode} {took.TotalMilliseconds:F0} ms after the finish on {playerNode}");
    }

    [Fact]
    public async Task QuestionsSavedThroughOneNodeAreWhatAnotherDrawsInItsNextRound()
    {
        await cluster.AllNodesUpAsync();
        var (adminPhone, _, adminNode) = await cluster.PhoneOnAsync(_ => true);
        var (player, registered, playerNode) = await cluster.PhoneOnAsync(node => node != adminNode);
        var token = registered.Token;
        output.WriteLine($"admin on {adminNode}, player on {playerNode}");

        // Every question of the repository's bank revised, imported through the admin's node.
        using var form = new MultipartFormDataContent();
        foreach (var file in Directory.GetFiles(Path.Combine(ClusterFixture.RepositoryRoot(), "question-bank", "questions"), "*.json"))
        {
            var bank = JsonNode.Parse(File.ReadAllText(file))!;
            foreach (var question in bank["questions"]!.AsArray()) question!["stem"] = question["stem"]!.GetValue<string>() + Revised;
            var part = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(bank));
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "files", Path.GetFileName(file));
        }
        adminPhone.Http.DefaultRequestHeaders.Add(Quiz.Server.Admin.AdminKey.Header, cluster.AdminKey);
        using (var imported = await adminPhone.Http.PostAsync("/api/admin/questions/import?dryRun=false", form))
            Assert.True(imported.IsSuccessStatusCode, $"import: {imported.StatusCode} {await imported.Content.ReadAsStringAsync()}");
        var saved = Stopwatch.StartNew();

        // The player's node draws the revised versions in the player's next round, a moment later
        // (the other nodes reload when the bus tells them, usually within a fraction of a second).
        await using var hub = player.Hub(token);
        await Phone.StartAsync(hub, output.WriteLine);
        await Task.Delay(TimeSpan.FromSeconds(2) - saved.Elapsed is { Ticks: > 0 } left ? left : TimeSpan.Zero);
        var round = await hub.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(ClusterFixture.Campaign));
        output.WriteLine($"first round on {playerNode} started {saved.ElapsedMilliseconds} ms after the import");
        Assert.All(round.Questions, q => Assert.EndsWith(Revised, q.Stem, StringComparison.Ordinal));
        await hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId));
    }
}
