using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Server.Play;
using Quiz.Server.Rankings;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Rankings;

/// <summary>
/// Issue 10, finding 4, on the server as a process: a campaign saved and units imported while it
/// runs rank with their real headcount bases at once, not 0 until a restart.
/// </summary>
public sealed class HeadcountTests : IDisposable
{
    private readonly ProcessWorld _world = new();
    private const string AdminKey = "headcount-test-admin-key";
    private const string NewCounty = "340104";

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task ACampaignSavedAndUnitsImportedWhileRunningRankWithTheirHeadcounts()
    {
        await using var server = await _world.StartServerAsync($"--Admin:ApiKey={AdminKey}");
        using var admin = new HttpClient { BaseAddress = server.Address };
        admin.DefaultRequestHeaders.Add(Quiz.Server.Admin.AdminKey.Header, AdminKey);

        var definition = File.ReadAllText(Path.Combine(_world.BankDir, "campaigns", "test.json")).Replace($"\"{PlayWorld.CampaignId}\"", "\"later\"");
        using (var saved = await admin.PutAsync("/api/admin/campaigns/later", new StringContent(definition, Encoding.UTF8, "application/json")))
            Assert.True(saved.IsSuccessStatusCode, await saved.Content.ReadAsStringAsync());

        using (var form = new MultipartFormDataContent())
        {
            var regions = new ByteArrayContent(Encoding.UTF8.GetBytes(PlayWorld.Regions + $"\n{NewCounty},蜀山区,340100,county,1300000\n"));
            regions.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
            form.Add(regions, "files", "regions.csv");
            using var imported = await admin.PostAsync("/api/admin/units/import", form);
            Assert.True(imported.IsSuccessStatusCode, await imported.Content.ReadAsStringAsync());
        }

        var token = await ProcessWorld.RegisterAsync(server, admin, 1, NewCounty);
        await using (var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(server.Address, "/hubs/play"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token)).Build())
        {
            await hub.StartAsync();
            var round = await hub.InvokeAsync<RoundView>("StartRound", new StartRoundRequest("later"));
            await hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId));
        }

        var rows = await Eventually.ReadAsync(
            () => admin.GetFromJsonAsync<List<RankingService.UnitRow>>("/api/rankings/later/units?level=county&metric=participation-rate"),
            r => r!.Any(u => u.Code == NewCounty && u.Participants == 1), TimeSpan.FromSeconds(30));
        var county = Assert.Single(rows!, r => r.Code == NewCounty);
        Assert.Equal((1L, 1_300_000L), (county.Participants, county.Headcount));
        Assert.True(county.ParticipationRate > 0);
        Assert.Equal(900_000L, Assert.Single(rows!, r => r.Code == PlayWorld.County).Headcount);

        using var reconcile = await admin.GetAsync("/api/admin/rankings/later/reconcile");
        Assert.Contains("\"matches\":true", await reconcile.Content.ReadAsStringAsync());
    }
}
