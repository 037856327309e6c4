namespace Quiz.Server.Hosting;

public static class HttpBasics
{
    /// <summary>Problem details for every error, and the OpenAPI document.</summary>
    public static WebApplicationBuilder AddHttpBasics(this WebApplicationBuilder builder)
    {
        // The pages live in src/Quiz.Server/wwwroot, but `dotnet run` runs where it is typed: the
        // build's static-web-assets manifest points there from any working directory. A published
        // copy carries wwwroot beside its binaries instead.
        builder.WebHost.UseStaticWebAssets();
        var published = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (!Directory.Exists(Path.Combine(builder.Environment.ContentRootPath, "wwwroot")) && Directory.Exists(published))
            builder.WebHost.UseWebRoot(published);
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

    /// <summary>The built front end (src/Quiz.Web → wwwroot): the phone page at /, the dashboard and the admin console.</summary>
    public static WebApplication UsePages(this WebApplication app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles();
        return app;
    }

    public static WebApplication MapPages(this WebApplication app)
    {
        app.MapFallbackToFile("/dashboard/{*path:nonfile}", "dashboard.html");
        app.MapFallbackToFile("/admin/{*path:nonfile}", "admin.html");
        return app;
    }
}
