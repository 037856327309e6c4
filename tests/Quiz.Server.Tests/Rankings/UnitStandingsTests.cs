using System.Text;
using Quiz.Ranking;
using Quiz.Server.Play;
using Quiz.Server.Rankings;
using Quiz.Server.Tests.Infrastructure;
using Quiz.Server.Units;

namespace Quiz.Server.Tests.Rankings;

/// <summary>
/// The unit boards read the store's daily statistics. Every figure is checked against a count of
/// what the test played, at every level, for the campaign and for each day.
/// </summary>
public sealed class UnitStandingsTests : IAsyncLifetime
{
    // A province whose one city has no counties (people register at the city) beside a city with one.
    private const string Province = "360000", FlatCity = "360100", City = "360200", County = "360201";
    private readonly QuizApplication _app = new();

    public async Task InitializeAsync()
    {
        await PlayWorld.SeedAsync(_app);
        var regions = SampleQuestions.WriteTemp(Encoding.UTF8.GetBytes($"""
            code,name,parent_code,level,headcount_base
            {Province},江西省,,province,40000000
            {FlatCity},南昌市,{Province},city,5000000
            {City},景德镇市,{Province},city,1500000
            {County},昌江区,{City},county,200000
            """), ".csv");
        Assert.True((await _app.Service<UnitImport>().ImportAsync([(regions, "regions.csv")])).Ok);
    }

    public Task DisposeAsync()
    {
        _app.Dispose();
        return Task.CompletedTask;
    }

    private sealed record Played(long Person, IReadOnlyList<string> Regions, string? Organisation, string? Type, DateOnly Day, int Score);

    [Fact]
    public async Task EveryUnitsFiguresAreTheRoundsPlayedInItForTheCampaignAndEachDay()
    {
        var units = _app.Service<UnitDirectory>();
        var rounds = _app.Service<RoundService>();
        var campaign = _app.Service<Quiz.Server.Campaigns.CampaignCatalog>().Get(PlayWorld.CampaignId)!;
        var played = new List<Played>();
        async Task PlayAsync(long person, string region, string? organisation)
        {
            var round = await rounds.StartAsync(person, new StartRoundRequest(PlayWorld.CampaignId));
            for (var i = 0; i < round.Questions.Count; i++) await rounds.AnswerAsync(person, new AnswerRequest(round.RoundId, i, [i % 2]));
            var result = await rounds.FinishAsync(person, new FinishRequest(round.RoundId));
            played.Add(new Played(person, units.PathOf(region), organisation, organisation is null ? null : units.Organisation(organisation)!.Type,
                campaign.DayOf(_app.Clock.GetUtcNow()), result.Score));
        }
        async Task<long> RegisterAsync(string region, string? organisation) =>
            (await PlayWorld.RegisterAsync(_app, region: region, organisation: organisation)).Participant.ParticipantId;

        var a = await RegisterAsync(PlayWorld.County, PlayWorld.Bank);
        var b = await RegisterAsync(PlayWorld.OtherCounty, PlayWorld.University);
        var c = await RegisterAsync(FlatCity, null);
        var d = await RegisterAsync(County, PlayWorld.Bank);
        await PlayAsync(a, PlayWorld.County, PlayWorld.Bank);
        await PlayAsync(a, PlayWorld.County, PlayWorld.Bank); // twice in a day: one participant, two rounds
        await PlayAsync(b, PlayWorld.OtherCounty, PlayWorld.University);
        await PlayAsync(c, FlatCity, null);
        _app.Clock.Advance(TimeSpan.FromDays(1));
        await PlayAsync(a, PlayWorld.County, PlayWorld.Bank); // back the next day: counted that day, not again in the campaign
        await PlayAsync(d, County, PlayWorld.Bank);
        await PlayAsync(c, FlatCity, null);
        await Staff.FlushRankingsAsync(_app);

        var standings = _app.Service<UnitStandings>();
        var unitsPlayed = played.SelectMany(p => p.Regions.Select((code, level) => ((UnitLevel)level, code))
                .Concat(p.Organisation is null ? [] : [(UnitLevel.Organisation, p.Organisation), (UnitLevel.OrganisationType, p.Type!)]))
            .Distinct().ToList();
        Assert.Equal(12, unitsPlayed.Count); // 2 provinces, 3 cities, 3 counties, 2 organisations, 2 types
        foreach (var day in played.Select(p => (DateOnly?)p.Day).Distinct().Append(null))
            foreach (var (level, code) in unitsPlayed)
            {
                var mine = played.Where(p => (day is null || p.Day == day) && (level switch
                {
                    UnitLevel.Organisation => p.Organisation == code,
                    UnitLevel.OrganisationType => p.Type == code,
                    _ => p.Regions.Count > (int)level && p.Regions[(int)level] == code,
                })).ToList();
                var standing = await standings.GetUnitAsync(new UnitBoardKey(PlayWorld.CampaignId, level, UnitMetric.Participants, day), code);
                Assert.True(standing is not null, $"{level} {code} {day}");
                var expected = (mine.Select(p => p.Person).Distinct().LongCount(), mine.LongCount(), mine.Sum(p => (long)p.Score));
                if (expected != (standing.Participants, standing.Rounds, standing.Points))
                {
                    await using var connection = await _app.Service<Quiz.Server.Storage.Database>().OpenAsync();
                    var rows = string.Join("\n", await Dapper.SqlMapper.QueryAsync<string>(connection, "SELECT unit_kind || ' ' || unit_code || ' ' || day || ' ' || new_participants || ' ' || participants || ' ' || rounds || ' ' || points FROM unit_daily_stats ORDER BY 1"));
                    var results = string.Join("\n", await Dapper.SqlMapper.QueryAsync<string>(connection, "SELECT id || ' ' || participant_id || ' ' || day || ' ' || score || ' ' || first_in_campaign || ' ' || first_of_day FROM results ORDER BY id"));
                    var applied = string.Join(",", await Dapper.SqlMapper.QueryAsync<string>(connection, "SELECT projection || ':' || result_id FROM projection_applied ORDER BY 1"));
                    Assert.Fail($"{level} {code} {day?.ToString() ?? "campaign"}: expected {expected}, read {(standing.Participants, standing.Rounds, standing.Points)}\n{rows}\n{results}\n{applied}\nplayed {string.Join("; ", played)}");
                }
            }

        // The province's board of cities ranks the flat city (2 rounds, 1 person) and the other one (1 and 1) by rounds.
        var cities = await standings.GetBoardAsync(new UnitBoardKey(PlayWorld.CampaignId, UnitLevel.City, UnitMetric.Rounds, ParentCode: Province), 10);
        Assert.Equal([(FlatCity, 2L, 1L), (City, 1L, 2L)], cities.Select(s => (s.Code, s.Rounds, s.SiblingRank)));
    }
}
