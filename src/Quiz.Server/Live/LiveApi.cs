using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Quiz.Server.Hosting;
using Quiz.Server.Security;

namespace Quiz.Server.Live;

/// <summary>Live sessions over HTTP (docs/live.md, section 1): staff create and export them; anyone looks a code up.</summary>
public static class LiveApi
{
    public static IHostApplicationBuilder AddLive(this IHostApplicationBuilder builder)
    {
        builder.AddSettings<LiveOptions>(LiveOptions.Section, o => o.Validate());
        builder.Services.AddSingleton<LiveStore>();
        builder.Services.AddSingleton<LiveRooms>();
        builder.Services.AddSingleton<JoinLimiter>();
        // On the real clock, not the server's: the window is the time a fan-out takes, not a date.
        builder.Services.AddSingleton(sp => new QuietFanout(TimeProvider.System, sp.GetRequiredService<ILogger<QuietFanout>>())
        {
            Enabled = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<LiveOptions>>().Value.QuietFanout,
        });
        builder.Services.AddSingleton<Microsoft.AspNetCore.SignalR.IHubActivator<LiveHub>, LiveHubActivator>();
        builder.Services.Configure<Microsoft.AspNetCore.SignalR.JsonHubProtocolOptions>(o => o.PayloadSerializerOptions.Converters.Add(new LiveAnswerRequestJson()));
        return builder;
    }

    public static IEndpointRouteBuilder MapLive(this IEndpointRouteBuilder routes)
    {
        routes.MapHub<LiveHub>("/hubs/live", options => options.AllowStatefulReconnects = true);
        var staff = routes.MapGroup("/api/live/sessions").WithTags("Live").RequireStaff();
        staff.MapPost("/", Create).WithSummary("Create a live session: its questions, rounds and scoring (docs/live.md).");
        staff.MapGet("/", List).WithSummary("The sessions the caller may run, newest first.");
        staff.MapGet("/{id}", Get);
        staff.MapGet("/{id}/report", Report).WithSummary("The session as a report: each question's distribution and right rate, and the top 10.");
        staff.MapGet("/{id}/results.{format:regex(^(csv|xlsx)$)}", Results).WithSummary("The final standings as CSV or XLSX.");
        routes.MapGet("/api/dashboard/{campaignId}/live", LiveParticipation.GetAsync).WithTags("Dashboard").RequireStaff()
            .WithSummary("Live-session joins during the campaign for a unit and its child regions, apart from quiz rounds.");
        routes.MapGet("/api/live/join/{code}", Join).WithTags("Live").WithSummary("A running session by its 6-digit code.");
        return routes;
    }

    private static string Origin(HttpRequest request) => $"{request.Scheme}://{request.Host}";

    private static async Task<Results<Created<LiveSessionView>, ValidationProblem, ForbidHttpResult>> Create(
        CreateLiveSession request, LiveRooms rooms, ClaimsPrincipal user, HttpRequest http, CancellationToken ct)
    {
        var (view, errors, forbidden) = await rooms.CreateAsync(request, user, Origin(http), ct);
        if (forbidden) return TypedResults.Forbid();
        return view is null ? TypedResults.ValidationProblem(errors) : TypedResults.Created($"/api/live/sessions/{view.Id}", view);
    }

    private static async Task<Ok<List<LiveSessionView>>> List(LiveStore store, LiveRooms rooms, ClaimsPrincipal user, HttpRequest http, CancellationToken ct)
    {
        var views = new List<LiveSessionView>();
        foreach (var row in await store.ListAsync(ct))
            if (await rooms.ViewAsync(row.Id, ct) is { } room && rooms.MayHost(user, room)) views.Add(rooms.View(room, Origin(http)));
        return TypedResults.Ok(views);
    }

    private static async Task<Results<Ok<LiveSessionView>, NotFound, ForbidHttpResult>> Get(
        string id, LiveRooms rooms, ClaimsPrincipal user, HttpRequest http, CancellationToken ct)
    {
        if (await rooms.ViewAsync(id, ct) is not { } room) return TypedResults.NotFound();
        return rooms.MayHost(user, room) ? TypedResults.Ok(rooms.View(room, Origin(http))) : TypedResults.Forbid();
    }

    private static async Task<Results<Ok<LiveJoinInfo>, NotFound>> Join(string code, LiveRooms rooms, CancellationToken ct) =>
        await rooms.ByCodeAsync(code, run: false, ct) is { Phase: not LivePhase.Ended } room
            ? TypedResults.Ok(new LiveJoinInfo(room.Id, room.Row.Title, rooms.UnitName(room.Row.UnitCode), room.Phase, room.Audience))
            : TypedResults.NotFound();

    public sealed record LiveReportQuestion(
        int Index, int Round, LiveRoundKind Kind, bool Skipped, string QuestionId, string Stem, IReadOnlyList<string> Options, int[] Key,
        int[] Distribution, int Answers, double? RightRate, string? BuzzWinner);

    public sealed record LiveReport(LiveSessionView Session, int Audience, IReadOnlyList<LiveReportQuestion> Questions, IReadOnlyList<LiveStanding> Top);

    /// <summary>From the store alone, so a finished session replays as a report on any node.</summary>
    private static async Task<Results<Ok<LiveReport>, NotFound, ForbidHttpResult>> Report(
        string id, LiveRooms rooms, LiveStore store, ClaimsPrincipal user, HttpRequest http, CancellationToken ct)
    {
        if (await rooms.ViewAsync(id, ct) is not { } room) return TypedResults.NotFound();
        if (!rooms.MayHost(user, room)) return TypedResults.Forbid();
        var (players, played, answers) = await store.PlayedAsync(id, ct);
        var names = players.ToDictionary(p => p.Id, p => p.Nickname);
        var rounds = room.Rules.Rounds.SelectMany((r, i) => Enumerable.Repeat((r.Kind, Round: i + 1), r.Questions)).ToList();
        var questions = played.Select(q =>
        {
            var index = (int)q.QuestionIndex;
            var question = room.Questions[index].Question;
            var mine = answers.Where(a => a.QuestionIndex == q.QuestionIndex).ToList();
            var distribution = new int[question.Options.Count];
            foreach (var a in mine)
                foreach (var choice in a.Choices.Split(',')) distribution[int.Parse(choice, System.Globalization.CultureInfo.InvariantCulture)]++;
            return new LiveReportQuestion(index, rounds[index].Round, rounds[index].Kind, q.Skipped == 1, question.Id, question.Stem, question.Options,
                [.. question.AnswerIndexes.Order()], distribution, mine.Count, mine.Count == 0 ? null : Math.Round(mine.Count(a => a.Correct == 1) / (double)mine.Count, 4),
                q.BuzzWinner is { } w ? names.GetValueOrDefault(w) : null);
        }).ToList();
        var standings = Standings(await store.StandingsAsync(id, ct), rooms);
        return TypedResults.Ok(new LiveReport(rooms.View(room, Origin(http)), players.Count, questions, [.. standings.Take(10)]));
    }

    /// <summary>Places as the room gives them: by points, ties sharing a place.</summary>
    private static List<LiveStanding> Standings(List<LiveStore.StandingRow> rows, LiveRooms rooms)
    {
        var standings = new List<LiveStanding>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var place = i > 0 && rows[i].Points == rows[i - 1].Points ? standings[i - 1].Place : i + 1;
            standings.Add(new LiveStanding(place, rows[i].Nickname, rooms.UnitName(rows[i].RegionCode), (int)rows[i].Points, (int)rows[i].RightAnswers));
        }
        return standings;
    }

    private static async Task<Results<FileContentHttpResult, NotFound, ForbidHttpResult>> Results(
        string id, string format, LiveRooms rooms, LiveStore store, ClaimsPrincipal user, CancellationToken ct)
    {
        if (await rooms.ViewAsync(id, ct) is not { } room) return TypedResults.NotFound();
        if (!rooms.MayHost(user, room)) return TypedResults.Forbid();
        var rows = await store.StandingsAsync(id, ct);
        var standings = Standings(rows, rooms);
        string[] header = ["名次", "昵称", "地区", "得分", "答对题数", "用时（秒）"];
        var lines = rows.Select((r, i) => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>
        {
            ["名次"] = standings[i].Place, ["昵称"] = r.Nickname, ["地区"] = standings[i].RegionName, ["得分"] = r.Points,
            ["答对题数"] = r.RightAnswers, ["用时（秒）"] = Math.Round(r.ElapsedMs / 1000.0, 2),
        });
        var name = $"live-{room.Row.Code}-results";
        return format == "xlsx"
            ? TypedResults.File(Spreadsheets.Xlsx(header, lines), Spreadsheets.XlsxType, name + ".xlsx")
            : TypedResults.File(Spreadsheets.Csv(header, lines), Spreadsheets.CsvType, name + ".csv");
    }
}
