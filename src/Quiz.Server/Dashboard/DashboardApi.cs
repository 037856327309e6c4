using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.SignalR;
using Quiz.Ranking;
using Quiz.Server.Rankings;
using Quiz.Server.Campaigns;
using Quiz.Server.Hosting;
using Quiz.Server.Security;

namespace Quiz.Server.Dashboard;

public static class DashboardApi
{
    public static IHostApplicationBuilder AddDashboard(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<UnitScope>();
        builder.Services.AddSingleton<DashboardService>();
        builder.Services.AddHostedService<DashboardPusher>();
        return builder;
    }

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/dashboard/{campaignId}").WithTags("Dashboard").RequireStaff();
        group.MapGet("/units", Units).WithSummary("A unit and its children, cumulative and today (live).");
        group.MapGet("/trend", Trend).WithSummary("A unit's figures per day.");
        group.MapGet("/export", Export).WithSummary("The children table as CSV or XLSX.");
        group.MapGet("/report", Report).WithSummary("One day's report for a unit and its children.");
        routes.MapHub<DashboardHub>("/hubs/dashboard");
        return routes;
    }

    /// <summary>The unit asked for, or the account's own; null means the country (admins only).</summary>
    private static (string? Unit, bool Allowed) Resolve(ClaimsPrincipal user, string? unit, UnitScope scope)
    {
        var code = string.IsNullOrWhiteSpace(unit) ? UnitScope.UnitOf(user) : unit;
        return (code, scope.Allows(user, code));
    }

    private static async Task<Results<Ok<DashboardService.UnitsView>, NotFound, ForbidHttpResult>> Units(
        string campaignId, string? unit, ClaimsPrincipal user, UnitScope scope, CampaignCatalog campaigns, DashboardService dashboard, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is not { } campaign) return TypedResults.NotFound();
        var (code, allowed) = Resolve(user, unit, scope);
        if (!allowed) return TypedResults.Forbid();
        return TypedResults.Ok(await dashboard.UnitsAsync(campaign, code, ct));
    }

    private static async Task<Results<Ok<List<DashboardService.DayStats>>, NotFound, ForbidHttpResult>> Trend(
        string campaignId, string? unit, ClaimsPrincipal user, UnitScope scope, CampaignCatalog campaigns, DashboardService dashboard, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is null) return TypedResults.NotFound();
        var (code, allowed) = Resolve(user, unit, scope);
        if (!allowed) return TypedResults.Forbid();
        return TypedResults.Ok(await dashboard.TrendAsync(campaignId, code, ct));
    }

    private static async Task<Results<Ok<DashboardService.DailyReport>, NotFound, ForbidHttpResult>> Report(
        string campaignId, string? unit, DateOnly? day, ClaimsPrincipal user, UnitScope scope, CampaignCatalog campaigns,
        DashboardService dashboard, TimeProvider clock, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is not { } campaign) return TypedResults.NotFound();
        var (code, allowed) = Resolve(user, unit, scope);
        if (!allowed) return TypedResults.Forbid();
        return TypedResults.Ok(await dashboard.ReportAsync(campaignId, code, day ?? campaign.DayOf(clock.GetUtcNow()), ct));
    }

    private static async Task<Results<FileContentHttpResult, NotFound, ForbidHttpResult, BadRequest>> Export(
        string campaignId, string? unit, string? format, ClaimsPrincipal user, UnitScope scope, CampaignCatalog campaigns,
        DashboardService dashboard, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is not { } campaign) return TypedResults.NotFound();
        var (code, allowed) = Resolve(user, unit, scope);
        if (!allowed) return TypedResults.Forbid();
        if (format is not ("csv" or "xlsx")) return TypedResults.BadRequest();
        var view = await dashboard.UnitsAsync(campaign, code, ct);
        // Headers in Chinese: the file goes to unit staff and into circulars. Rates per 10,000 as
        // decimals: a double of a few millionths prints as 2E-06.
        string[] header = ["单位代码", "单位", "参与人数", "基数", "参与率（每万人）", "答题次数", "总分", "平均分", "排名", "今日参与人数", "今日答题次数"];
        var rows = view.Children.Select(c => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>
        {
            ["单位代码"] = c.Code, ["单位"] = c.Name, ["参与人数"] = c.Participants, ["基数"] = c.Headcount,
            ["参与率（每万人）"] = c.PerTenThousand, ["答题次数"] = c.Rounds, ["总分"] = c.Points,
            ["平均分"] = Math.Round((decimal)c.AveragePoints, 2), ["排名"] = c.SiblingRank, ["今日参与人数"] = c.TodayParticipants,
            ["今日答题次数"] = c.TodayRounds,
        }).ToList();
        var name = $"{campaignId}-{(code is null ? "national" : code.Replace(':', '-').TrimEnd('-'))}-{view.Today:yyyyMMdd}";
        return format == "xlsx"
            ? TypedResults.File(Spreadsheets.Xlsx(header, rows), Spreadsheets.XlsxType, name + ".xlsx")
            : TypedResults.File(Spreadsheets.Csv(header, rows), Spreadsheets.CsvType, name + ".csv");
    }
}

public sealed record UnitsChanged(string CampaignId);

public interface IDashboardClient
{
    Task UnitsChanged(UnitsChanged change);
}

/// <summary>Dashboards listen here; the server only pushes (what changed), pages refetch what they show.</summary>
[Authorize(Policy = Access.StaffPolicy)]
public sealed class DashboardHub : Hub<IDashboardClient>;

/// <summary>
/// Turns the unit boards' change stream into at most one push per campaign every half second,
/// and always a last one after the final change, so a dashboard never misses where things ended.
/// Paced by the real clock: this is delivery, not campaign time.
/// </summary>
public sealed class DashboardPusher(UnitStandings standings, IHubContext<DashboardHub, IDashboardClient> hub, ILogger<DashboardPusher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var changed = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        var watch = Task.Run(async () =>
        {
            await foreach (var change in standings.WatchAsync(stoppingToken)) changed[change.CampaignId] = true;
        }, stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                foreach (var campaign in changed.Keys)
                {
                    if (!changed.TryRemove(campaign, out _)) continue;
                    try { await hub.Clients.All.UnitsChanged(new UnitsChanged(campaign)); }
                    catch (Exception e) { logger.LogWarning(e, "Dashboard push failed"); }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        await watch.ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
