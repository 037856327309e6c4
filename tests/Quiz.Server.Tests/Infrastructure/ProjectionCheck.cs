using System.Data.Common;
using Dapper;

namespace Quiz.Server.Tests.Infrastructure;

/// <summary>
/// The projections of finished rounds (unit_daily_stats, question_stats) recomputed from the store
/// by plain SQL and C#, independently of the projection code, and compared with what the
/// projections hold.
/// </summary>
public static class ProjectionCheck
{
    /// <summary>Every row where the projections differ from the recomputation; empty when they agree.</summary>
    public static async Task<List<string>> DifferencesAsync(DbConnection connection)
    {
        var differences = new List<string>();
        Compare("unit_daily_stats", await ExpectedUnitStatsAsync(connection), await ActualUnitStatsAsync(connection), differences);
        Compare("question_stats", await ExpectedQuestionStatsAsync(connection), await ActualQuestionStatsAsync(connection), differences);
        return differences;
    }

    /// <summary>How many finished rounds the store holds.</summary>
    public static Task<long> ResultCountAsync(DbConnection connection) => connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM results");

    private static void Compare(string table, Dictionary<string, string> expected, Dictionary<string, string> actual, List<string> differences)
    {
        foreach (var (key, value) in expected)
            if (!actual.TryGetValue(key, out var found) || found != value) differences.Add($"{table} {key}: expected {value}, found {found ?? "nothing"}");
        foreach (var key in actual.Keys.Except(expected.Keys)) differences.Add($"{table} {key}: expected nothing, found {actual[key]}");
    }

    private static async Task<Dictionary<string, string>> ExpectedUnitStatsAsync(DbConnection connection)
    {
        var parents = (await connection.QueryAsync<(string Code, string? Parent)>("SELECT code, parent_code FROM regions")).ToDictionary(r => r.Code, r => r.Parent);
        var organisations = (await connection.QueryAsync<string>("SELECT code FROM organisations")).ToHashSet();
        var results = await connection.QueryAsync<(string CampaignId, string Day, long Score, long First, long FirstOfDay, string Region, string? Organisation)>("""
            SELECT r.campaign_id, r.day, r.score, r.first_in_campaign, r.first_of_day, p.region_code, p.organisation_code
            FROM results r JOIN participants p ON p.id = r.participant_id
            """);
        var sums = new Dictionary<string, (long New, long People, long Rounds, long Points)>();
        foreach (var r in results)
        {
            var units = new List<string>();
            for (string? code = r.Region; code is not null; code = parents.GetValueOrDefault(code)) units.Add($"region {code}");
            if (r.Organisation is { } organisation && organisations.Contains(organisation)) units.Add($"organisation {organisation}");
            foreach (var unit in units)
            {
                var key = $"{r.CampaignId} {unit} {r.Day}";
                var s = sums.GetValueOrDefault(key);
                sums[key] = (s.New + r.First, s.People + r.FirstOfDay, s.Rounds + 1, s.Points + r.Score);
            }
        }
        return sums.ToDictionary(s => s.Key, s => s.Value.ToString());
    }

    private static async Task<Dictionary<string, string>> ActualUnitStatsAsync(DbConnection connection) =>
        (await connection.QueryAsync<(string CampaignId, string Kind, string Code, string Day, long New, long People, long Rounds, long Points)>(
            "SELECT campaign_id, unit_kind, unit_code, day, new_participants, participants, rounds, points FROM unit_daily_stats"))
        .ToDictionary(r => $"{r.CampaignId} {r.Kind} {r.Code} {r.Day}", r => (r.New, r.People, r.Rounds, r.Points).ToString());

    private static async Task<Dictionary<string, string>> ExpectedQuestionStatsAsync(DbConnection connection)
    {
        var answers = await connection.QueryAsync<(string QuestionId, long Version, string Chosen, long Correct)>(
            "SELECT question_id, question_version, chosen, correct FROM answers");
        return answers.GroupBy(a => $"{a.QuestionId} v{a.Version}").ToDictionary(g => g.Key, g =>
        {
            var counts = Enumerable.Range(0, 8).Select(option => (long)g.Count(a => a.Chosen.Contains((char)('A' + option)))).ToArray();
            return (g.Count(a => a.Chosen.Length > 0), g.Sum(a => a.Correct), string.Join(",", counts)).ToString();
        });
    }

    private static async Task<Dictionary<string, string>> ActualQuestionStatsAsync(DbConnection connection) =>
        (await connection.QueryAsync<(string QuestionId, long Version, long Answered, long Correct, long A, long B, long C, long D, long E, long F, long G, long H)>(
            "SELECT question_id, question_version, answered, correct, chosen_a, chosen_b, chosen_c, chosen_d, chosen_e, chosen_f, chosen_g, chosen_h FROM question_stats"))
        .ToDictionary(r => $"{r.QuestionId} v{r.Version}", r => ((int)r.Answered, r.Correct, string.Join(",", r.A, r.B, r.C, r.D, r.E, r.F, r.G, r.H)).ToString());
}
