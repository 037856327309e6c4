using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Quiz.Server.Hosting;

namespace Quiz.Server.Storage;

public static class StorageExtensions
{
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        builder.AddSettings<StorageOptions>(StorageOptions.Section, o => o.Validate());
        builder.Services.AddSingleton<Database>();
        builder.Services.AddSingleton<Migrator>();
        builder.Services.AddSingleton<StoreWriter>();
        // A singleton: a filter type not in the container is made anew for every hub call.
        builder.Services.AddSingleton<StoreUnavailableFilter>();
        builder.Services.Configure<HubOptions>(options => options.AddFilter<StoreUnavailableFilter>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        return builder;
    }

    /// <summary>Brings the store's schema up to date before anything reads it.</summary>
    public static async Task MigrateStoreAsync(this IHost app) =>
        await app.Services.GetRequiredService<Migrator>().MigrateAsync();
}
