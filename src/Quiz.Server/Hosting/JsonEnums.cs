using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.SignalR;
using Microsoft.OpenApi;

namespace Quiz.Server.Hosting;

/// <summary>
/// Every enum travels as its kebab-case name (<c>"best-of-day-summed"</c>), never as a number: in
/// HTTP answers and bodies, on the SignalR hubs and in the OpenAPI document. Kebab case is what the
/// campaign files already use (<see cref="Campaigns.Campaign.Json"/>), so a rule reads the same in a
/// file, an answer and a page. The enums the campaign files define carry the same converter as an
/// attribute; this catches the rest (e.g. a stage's ranking <c>rule</c>), including ones added later.
/// </summary>
public static class JsonEnums
{
    /// <summary>
    /// Numbers are still read (the converter's default) so that an older client keeps working; the
    /// names are what every answer sends and what clients should send.
    /// </summary>
    public static JsonStringEnumConverter Converter() => new(JsonNamingPolicy.KebabCaseLower);

    public static IServiceCollection AddEnumsAsStrings(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(options => options.SerializerOptions.Converters.Add(Converter()));
        // What AddJsonProtocol configures, for every hub (play and dashboard).
        services.Configure<JsonHubProtocolOptions>(options => options.PayloadSerializerOptions.Converters.Add(Converter()));
        services.ConfigureAll<OpenApiOptions>(options => options.AddSchemaTransformer((schema, context, _) =>
        {
            // The generator lists an enum's names but leaves out their type: say it, so generated
            // clients (openapi-typescript) make string unions of them.
            var type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type;
            if (type.IsEnum && schema.Enum is { Count: > 0 } && schema.Type is null)
                schema.Type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) is null ? JsonSchemaType.String : JsonSchemaType.String | JsonSchemaType.Null;
            return Task.CompletedTask;
        }));
        return services;
    }
}
