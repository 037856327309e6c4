using System.Text.Json;
using Dapper;
using Quiz.Server.Campaigns;
using Quiz.Server.Participants;
using Quiz.Server.Storage;

namespace Quiz.Server.Surveys;

/// <summary>Survey replies in the store: taking one (once a person and campaign), and reading them back by unit.</summary>
public sealed class SurveyStore(Database database, StoreWriter writer, TimeProvider clock)
{
    /// <summary>A reply checked against its survey: the options chosen and the texts written, by question.</summary>
    public sealed record Checked(IReadOnlyList<(string Question, string Option)> Choices, IReadOnlyList<(string Question, string Text)> Texts);

    /// <summary>
    /// Every problem with a reply to <paramref name="survey"/>, keyed for a validation problem
    /// ("answers[topics]"), or the reply as it will be stored. Nothing about the store: the version
    /// and the "once" rule are the caller's.
    /// </summary>
    public static (Checked? Reply, Dictionary<string, string[]> Errors) Check(Survey survey, SurveysApi.SurveyReply reply)
    {
        var errors = new Dictionary<string, string[]>();
        var choices = new List<(string, string)>();
        var texts = new List<(string, string)>();
        var answers = reply.Answers ?? [];
        if (answers.Count > Survey.MaxQuestions * 2) errors["answers"] = [$"at most one answer a question ({survey.Questions.Count})"];
        foreach (var unknown in answers.Where(a => a is null || survey.Question(a.Question ?? "") is null).Select(a => a?.Question).Distinct())
            errors[$"answers[{unknown}]"] = ["no such question in this survey"];
        foreach (var twice in answers.Where(a => a is not null).GroupBy(a => a.Question).Where(g => g.Count() > 1))
            errors[$"answers[{twice.Key}]"] = ["answered twice"];
        if (errors.Count > 0) return (null, errors);

        foreach (var question in survey.Questions)
        {
            var answer = answers.FirstOrDefault(a => a.Question == question.Id);
            var key = $"answers[{question.Id}]";
            var options = (answer?.Options ?? []).ToList();
            var text = answer?.Text?.Trim() ?? "";
            if (question.Kind == SurveyQuestionKind.Text)
            {
                if (options.Count > 0) errors[key] = ["a text question takes a text, not options"];
                else if (text.Length == 0) { if (question.Required) errors[key] = ["required"]; }
                else if (NicknameRules.CheckText(text, Survey.MaxTextLength) is { } refused) errors[key] = [refused];
                else texts.Add((question.Id, text));
                continue;
            }
            if (answer?.Text is not null) { errors[key] = ["a choice question takes options, not a text"]; continue; }
            if (options.Any(o => question.Options.All(known => known.Id != o))) { errors[key] = ["an option that this question does not have"]; continue; }
            if (options.Distinct().Count() != options.Count) { errors[key] = ["an option chosen twice"]; continue; }
            if (options.Count == 0) { if (question.Required) errors[key] = ["required"]; continue; }
            if (question.Kind == SurveyQuestionKind.Single && options.Count > 1) { errors[key] = ["one option only"]; continue; }
            choices.AddRange(options.Select(o => (question.Id, o)));
        }
        return errors.Count > 0 ? (null, errors) : (new Checked(choices, texts), errors);
    }

    /// <summary>
    /// Stores a checked reply in one transaction; false (and nothing written) when the person has
    /// answered this campaign's survey already, in any version. The key of survey_responses is the
    /// guard, so two replies sent at once cannot both count.
    /// </summary>
    public Task<bool> AnswerAsync(long participantId, string campaignId, int version, Checked reply, CancellationToken ct = default) =>
        writer.WriteAsync(async (connection, tx) =>
        {
            var taken = await connection.ExecuteAsync("""
                INSERT INTO survey_responses (campaign_id, participant_id, version, answered_at) VALUES (@campaignId, @participantId, @version, @Now)
                ON CONFLICT (campaign_id, participant_id) DO NOTHING
                """, new { campaignId, participantId, version, Now = clock.GetUtcNow().ToString("O") }, tx) == 1;
            if (!taken) return false;
            if (reply.Choices.Count > 0)
                await connection.ExecuteAsync(
                    "INSERT INTO survey_choices (campaign_id, participant_id, question_id, option_id) VALUES (@campaignId, @participantId, @Question, @Option)",
                    reply.Choices.Select(c => new { campaignId, participantId, c.Question, c.Option }), tx);
            if (reply.Texts.Count > 0)
                await connection.ExecuteAsync(
                    "INSERT INTO survey_texts (campaign_id, participant_id, question_id, text) VALUES (@campaignId, @participantId, @Question, @Text)",
                    reply.Texts.Select(t => new { campaignId, participantId, t.Question, t.Text }), tx);
            return true;
        }, ct);

    /// <summary>The version a person answered, or null.</summary>
    public async Task<int?> AnsweredAsync(long participantId, string campaignId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (int?)await connection.ExecuteScalarAsync<long?>(
            "SELECT version FROM survey_responses WHERE campaign_id = @campaignId AND participant_id = @participantId", new { campaignId, participantId });
    }

    /// <summary>How many rounds of the campaign a person has finished, on a day or in all.</summary>
    public async Task<long> RoundsAsync(long participantId, string campaignId, DateOnly? day, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM results WHERE participant_id = @participantId AND campaign_id = @campaignId" + (day is null ? "" : " AND day = @Day"),
            new { participantId, campaignId, Day = day?.ToString("yyyy-MM-dd") });
    }

    /// <summary>Every stored version of a campaign's survey, oldest first.</summary>
    public async Task<List<Survey>> VersionsAsync(string campaignId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<string>("SELECT definition FROM survey_versions WHERE campaign_id = @campaignId ORDER BY version", new { campaignId }))
            .Select(d => JsonSerializer.Deserialize<Survey>(d, Campaign.Json)!).ToList();
    }

    // ---- reading replies by unit ------------------------------------------------------------

    /// <summary>
    /// Which participants a unit's figures count: all (the country), those living in some regions,
    /// those of some organisations, or those of any organisation. A SQL condition on <c>p</c>
    /// (participants) and its parameters.
    /// </summary>
    public sealed record Members(MemberKind Kind, string[]? Codes = null);

    public enum MemberKind { Everyone, Regions, Organisations, AnyOrganisation }

    private string Condition(Members members) => members.Kind switch
    {
        MemberKind.Regions => $"AND p.region_code {database.InList("codes")}",
        MemberKind.Organisations => $"AND p.organisation_code {database.InList("codes")}",
        MemberKind.AnyOrganisation => "AND p.organisation_code IS NOT NULL",
        _ => "",
    };

    /// <summary>A class, not a positional record: SQLite types an aggregate's columns loosely, which only property mapping tolerates.</summary>
    public sealed class GroupCount
    {
        public required string Region { get; init; }
        public string? Organisation { get; init; }
        public string Question { get; init; } = "";
        public string Option { get; init; } = "";
        public long Version { get; init; }
        public long Count { get; init; }
    }

    /// <summary>Replies of one version by where the people are: respondents, options chosen, texts written.</summary>
    /// <param name="answeredBefore">Only replies before this instant (a circular counts those up to its period's end).</param>
    public async Task<(List<GroupCount> Respondents, List<GroupCount> Choices, List<GroupCount> Texts)> CountsAsync(
        string campaignId, int version, Members members, CancellationToken ct = default, DateTimeOffset? answeredBefore = null)
    {
        await using var connection = await database.OpenAsync(ct);
        // answered_at is written as ToString("O") in UTC, so the text order is the time order.
        var where = $"r.campaign_id = @campaignId AND r.version = @version {Condition(members)}" + (answeredBefore is null ? "" : " AND r.answered_at < @before");
        var args = new { campaignId, version, codes = members.Codes, before = answeredBefore?.ToUniversalTime().ToString("O") };
        // CAST: PostgreSQL counts into bigint already, SQLite into integer; both read back as long.
        var respondents = await connection.QueryAsync<GroupCount>(new CommandDefinition($"""
            SELECT p.region_code AS Region, p.organisation_code AS Organisation, CAST(COUNT(*) AS BIGINT) AS Count
            FROM survey_responses r JOIN participants p ON p.id = r.participant_id
            WHERE {where} GROUP BY p.region_code, p.organisation_code
            """, args, cancellationToken: ct));
        var choices = await connection.QueryAsync<GroupCount>(new CommandDefinition($"""
            SELECT p.region_code AS Region, p.organisation_code AS Organisation, c.question_id AS Question, c.option_id AS Option, CAST(COUNT(*) AS BIGINT) AS Count
            FROM survey_choices c
            JOIN survey_responses r ON r.campaign_id = c.campaign_id AND r.participant_id = c.participant_id
            JOIN participants p ON p.id = r.participant_id
            WHERE {where} GROUP BY p.region_code, p.organisation_code, c.question_id, c.option_id
            """, args, cancellationToken: ct));
        var texts = await connection.QueryAsync<GroupCount>(new CommandDefinition($"""
            SELECT p.region_code AS Region, p.organisation_code AS Organisation, t.question_id AS Question, CAST(COUNT(*) AS BIGINT) AS Count
            FROM survey_texts t
            JOIN survey_responses r ON r.campaign_id = t.campaign_id AND r.participant_id = t.participant_id
            JOIN participants p ON p.id = r.participant_id
            WHERE {where} GROUP BY p.region_code, p.organisation_code, t.question_id
            """, args, cancellationToken: ct));
        return (respondents.ToList(), choices.ToList(), texts.ToList());
    }

    /// <summary>Respondents and options chosen over every version (the demand chart maps each version's options to categories).</summary>
    public async Task<(long Respondents, List<GroupCount> Choices)> DemandAsync(string campaignId, Members members, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var args = new { campaignId, codes = members.Codes };
        var respondents = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"""
            SELECT COUNT(*) FROM survey_responses r JOIN participants p ON p.id = r.participant_id WHERE r.campaign_id = @campaignId {Condition(members)}
            """, args, cancellationToken: ct));
        var choices = await connection.QueryAsync<GroupCount>(new CommandDefinition($"""
            SELECT '' AS Region, r.version AS Version, c.question_id AS Question, c.option_id AS Option, CAST(COUNT(*) AS BIGINT) AS Count
            FROM survey_choices c
            JOIN survey_responses r ON r.campaign_id = c.campaign_id AND r.participant_id = c.participant_id
            JOIN participants p ON p.id = r.participant_id
            WHERE r.campaign_id = @campaignId {Condition(members)} GROUP BY r.version, c.question_id, c.option_id
            """, args, cancellationToken: ct));
        return (respondents, choices.ToList());
    }

    public sealed class CategoryAnswers
    {
        public required string Category { get; init; }
        public long Answered { get; init; }
        public long Correct { get; init; }
    }

    /// <summary>
    /// Answered and right answers by question category among the members' rounds, over the whole
    /// campaign or the days from..to (campaign days, both included; the circulars' weak topics),
    /// unanswered questions aside as the question statistics count them.
    /// </summary>
    public async Task<List<CategoryAnswers>> KnowledgeAsync(string campaignId, Members members, CancellationToken ct = default,
        DateOnly? from = null, DateOnly? to = null)
    {
        await using var connection = await database.OpenAsync(ct);
        var days = from is null || to is null ? "" : "AND r.day >= @from AND r.day <= @to";
        return (await connection.QueryAsync<CategoryAnswers>(new CommandDefinition($"""
            SELECT v.category AS Category, CAST(COUNT(*) AS BIGINT) AS Answered, CAST(SUM(a.correct) AS BIGINT) AS Correct
            FROM results r
            JOIN participants p ON p.id = r.participant_id
            JOIN answers a ON a.result_id = r.id
            JOIN question_versions v ON v.question_id = a.question_id AND v.version = a.question_version
            WHERE r.campaign_id = @campaignId {days} AND a.chosen <> '' {Condition(members)}
            GROUP BY v.category
            """, new { campaignId, codes = members.Codes, from = from?.ToString("yyyy-MM-dd"), to = to?.ToString("yyyy-MM-dd") }, cancellationToken: ct))).ToList();
    }

    public sealed class TextRow
    {
        public required string Question { get; init; }
        public required string Text { get; init; }
        public required string Region { get; init; }
        public string? Organisation { get; init; }
        public long Version { get; init; }
        public required string AnsweredAt { get; init; }
    }

    /// <summary>The newest free-text answers of a unit's people, at most <paramref name="limit"/>, and how many there are.</summary>
    public async Task<(long Total, List<TextRow> Rows)> TextsAsync(string campaignId, Members members, int limit, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var args = new { campaignId, codes = members.Codes, limit };
        const string from = """
            FROM survey_texts t
            JOIN survey_responses r ON r.campaign_id = t.campaign_id AND r.participant_id = t.participant_id
            JOIN participants p ON p.id = r.participant_id
            """;
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT COUNT(*) {from} WHERE t.campaign_id = @campaignId {Condition(members)}", args, cancellationToken: ct));
        var rows = await connection.QueryAsync<TextRow>(new CommandDefinition($"""
            SELECT t.question_id AS Question, t.text AS Text, p.region_code AS Region, p.organisation_code AS Organisation, r.version AS Version, r.answered_at AS AnsweredAt
            {from} WHERE t.campaign_id = @campaignId {Condition(members)}
            ORDER BY r.answered_at DESC, t.participant_id DESC, t.question_id LIMIT @limit
            """, args, cancellationToken: ct));
        return (total, rows.ToList());
    }
}
