using Quiz.Ranking;
using Quiz.Server.Campaigns;
using Quiz.Server.Hosting;

namespace Quiz.Server.Rankings;

public static class RankingsExtensions
{
    /// <summary>The ranking engine named by Ranking:Engine: InProcess (default) or Redis.</summary>
    public static IHostApplicationBuilder AddRankings(this IHostApplicationBuilder builder)
    {
        builder.AddSettings<RankingOptions>("Ranking", o => o.Validate());
        builder.Services.AddSingleton(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<RankingOptions>>().Value);
        builder.Services.AddSingleton<RankingStore>();
        builder.Services.AddSingleton<RankingService>();
        builder.Services.AddSingleton<UnitStandings>();
        builder.Services.AddSingleton<IRankingEngine>(sp =>
        {
            var options = sp.GetRequiredService<RankingOptions>();
            var clock = sp.GetRequiredService<TimeProvider>();
            // Redis: starts even while Redis is down and fails fast meanwhile (finishes answer pending).
            // Ranking:Shards with two or more entries spreads each campaign over that many Redis primaries.
            if (options.Engine == "Redis" && options.Shards.Length > 1) return ShardedRankingEngine.ConnectAsync(options.Shards, options, clock).GetAwaiter().GetResult();
            if (options.Engine == "Redis") return RedisRankingEngine.ConnectAsync(options.Shards.FirstOrDefault() ?? options.Redis, options, clock).GetAwaiter().GetResult();
            return new InProcessRankingEngine(options, clock);
        });
        builder.Services.AddSingleton<RankingWatchdog>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RankingWatchdog>());
        return builder;
    }

    public static Task LoadRankingsAsync(this IHost app) => app.Services.GetRequiredService<RankingService>().LoadAsync();
}

