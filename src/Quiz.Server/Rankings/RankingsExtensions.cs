using Quiz.Ranking;
using Quiz.Server.Campaigns;
using StackExchange.Redis;

namespace Quiz.Server.Rankings;

public static class RankingsExtensions
{
    /// <summary>The ranking engine named by Ranking:Engine: InProcess (default) or Redis.</summary>
    public static IHostApplicationBuilder AddRankings(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IConfiguration>().GetSection("Ranking").Get<RankingOptions>() ?? new RankingOptions();
            options.Validate();
            return options;
        });
        builder.Services.AddSingleton<RankingStore>();
        builder.Services.AddSingleton<IRankingEngine>(sp =>
        {
            var options = sp.GetRequiredService<RankingOptions>();
            var clock = sp.GetRequiredService<TimeProvider>();
            if (options.Engine == "Redis")
            {
                var configuration = ConfigurationOptions.Parse(options.Redis);
                configuration.AbortOnConnectFail = false; // start even while Redis is down; the boards catch up
                return new RedisRankingEngine(ConnectionMultiplexer.Connect(configuration), options, clock);
            }
            return new InProcessRankingEngine(options, clock);
        });
        builder.Services.AddHostedService<RankingCatchUpService>();
        return builder;
    }

    /// <summary>
    /// Hands the engine every campaign's headcount bases and rebuilds its boards from the store:
    /// the in-process engine starts empty, and Redis may have missed rounds while this node was down.
    /// </summary>
    public static async Task LoadRankingsAsync(this IHost app, CancellationToken ct = default)
    {
        var engine = app.Services.GetRequiredService<IRankingEngine>();
        var store = app.Services.GetRequiredService<RankingStore>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RankingsExtensions));
        foreach (var campaign in app.Services.GetRequiredService<CampaignCatalog>().All)
        {
            try
            {
                await engine.SetUnitBasesAsync(campaign.Id, store.Bases(), ct);
                var report = await engine.RebuildAsync(campaign.Id, after => store.RoundsAfter(campaign.Id, after, ct), ct);
                logger.LogInformation("Rankings of {Campaign}: {Rounds} rounds of {Participants} participants loaded in {Elapsed}",
                    campaign.Id, report.Rounds, report.Participants, report.Elapsed);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One campaign's bad data must not keep the platform down; its ranks answer pending.
                logger.LogError(e, "The rankings of {Campaign} could not be loaded", campaign.Id);
            }
        }
    }
}

/// <summary>When the engine says a campaign missed rounds (Redis was unreachable), replays them from the store.</summary>
public sealed class RankingCatchUpService(IRankingEngine engine, RankingStore store, ILogger<RankingCatchUpService> logger) : BackgroundService
{
    private readonly System.Threading.Channels.Channel<string> _pending = System.Threading.Channels.Channel.CreateUnbounded<string>();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        engine.CatchUpNeeded += campaign => _pending.Writer.TryWrite(campaign);
        await foreach (var campaign in _pending.Reader.ReadAllAsync(stoppingToken))
        {
            if (!engine.NeedsCatchUp(campaign)) continue;
            var report = await RankingCatchUp.RunAsync(engine, campaign, after => store.RoundsAfter(campaign, after, stoppingToken),
                TimeSpan.FromSeconds(2), stoppingToken);
            logger.LogInformation("Rankings of {Campaign} caught up: {Rounds} rounds", campaign, report.Rounds);
        }
    }
}
