using Microsoft.AspNetCore.SignalR;

namespace Quiz.Server.Play;

public static class PlayExtensions
{
    public static IHostApplicationBuilder AddPlay(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RoundStore>();
        builder.Services.AddSingleton<QuestionDraw>();
        // The rounds in play: in this process (the embedded default), or in Redis, where every node
        // answers and finishes them and watches their deadlines.
        var rounds = builder.Configuration.GetSection(RoundsOptions.Section).Get<RoundsOptions>() ?? new RoundsOptions();
        rounds.Validate(builder.Configuration["Ranking:Redis"]);
        builder.Services.AddSingleton(rounds);
        if (rounds.InRedis)
        {
            builder.Services.AddSingleton<RedisActiveRounds>();
            builder.Services.AddSingleton<IActiveRounds>(sp => sp.GetRequiredService<RedisActiveRounds>());
            builder.Services.AddSingleton<DeadlineWatcher>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<DeadlineWatcher>());
        }
        else builder.Services.AddSingleton<IActiveRounds, InProcessActiveRounds>();
        builder.Services.AddSingleton<FinishPipeline>();
        builder.Services.AddSingleton<RoundService>();
        builder.Services.AddHostedService<RoundSweeper>();
        builder.Services.AddSingleton<StartLimiter>();
        builder.Services.AddSingleton<IHubActivator<PlayHub>, PlayHubActivator>();
        var hubs = builder.Services.AddSignalR(options =>
        {
            // Weak mobile networks: be patient before calling a client gone.
            options.ClientTimeoutInterval = TimeSpan.FromSeconds(60);
            options.KeepAliveInterval = TimeSpan.FromSeconds(15);
            options.MaximumReceiveMessageSize = 16 * 1024;
        });
        var signalR = builder.Configuration.GetSection(SignalROptions.Section).Get<SignalROptions>() ?? new SignalROptions();
        signalR.Validate();
        // Several nodes: a push made on one node (a finish moved a dashboard's board) reaches the
        // clients of all of them through Redis. A client's connection still lives on one node, so
        // the balancer stays sticky.
        if (!string.IsNullOrWhiteSpace(signalR.Redis))
            hubs.AddStackExchangeRedis(signalR.Redis, redis =>
                redis.Configuration.ChannelPrefix = StackExchange.Redis.RedisChannel.Literal(SignalROptions.ChannelPrefix));
        return builder;
    }

    public static IEndpointRouteBuilder MapPlay(this IEndpointRouteBuilder routes)
    {
        // Stateful reconnect replays messages lost while a phone's connection dropped.
        routes.MapHub<PlayHub>("/hubs/play", options => options.AllowStatefulReconnects = true);
        return routes;
    }
}
