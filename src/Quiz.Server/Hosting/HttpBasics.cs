namespace Quiz.Server.Hosting;

public static class HttpBasics
{
    /// <summary>Problem details for every error, and the OpenAPI document.</summary>
    public static IHostApplicationBuilder AddHttpBasics(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        return builder;
    }

    public static WebApplication UseHttpBasics(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapGet("/healthz", () => TypedResults.Text("ok")).WithTags("Health").ExcludeFromDescription();
        return app;
    }
}
