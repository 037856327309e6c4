using Quiz.Ranking;
using Quiz.Server.Campaigns;

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
        builder.Services.AddSingleton<RankingService>();
        builder.Services.AddSingleton<IRankingEngine>(sp =>
        {
            var options = sp.GetRequiredService<RankingOptions>();
            var clock = sp.GetRequiredService<TimeProvider>();
            // Redis: starts even while Redis is down and fails fast meanwhile (finishes answer pending).
            if (options.Engine == "Redis") return RedisRankingEngine.ConnectAsync(options.Redis, options, clock).GetAwaiter().GetResult();
            return new InProcessRankingEngine(options, clock);
        });
        builder.Services.AddHostedService<RankingCatchUpService>();
        return builder;
    }

    public static Task LoadRankingsAsync(this IHost app) => app.Services.GetRequiredService<RankingService>().LoadAsync();
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
