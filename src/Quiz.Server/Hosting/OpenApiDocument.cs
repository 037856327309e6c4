using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Quiz.Server.Play;

namespace Quiz.Server.Hosting;

/// <summary>
/// /openapi/v1.json is the contract the web pages' types are generated from (openapi-typescript,
/// src/Quiz.Web/openapi.json), so it describes what the pages read: the HTTP API, and also the
/// messages of /hubs/play, /hubs/live and /hubs/dashboard and the play hub's error codes, which OpenAPI has no place for but a client needs
/// as much. On the wire the hub is unchanged (docs/protocol.md).
/// </summary>
public static class OpenApiDocument
{
    /// <summary>The string enum of every hub error code (<see cref="PlayErrors.All"/>).</summary>
    public const string ErrorCodeSchema = "PlayErrorCode";

    public static IServiceCollection AddQuizOpenApi(this IServiceCollection services) => services.AddOpenApi(options =>
    {
        options.AddSchemaTransformer((schema, _, _) =>
        {
            // The web defaults also read numbers sent as strings, so the generator types every number
            // "integer or a string of digits"; the server always writes numbers and clients should send
            // them, so the document says number, and generated types are `number`, not `number | string`.
            if (schema.Type is { } type && (type & (JsonSchemaType.Integer | JsonSchemaType.Number)) != 0 && type.HasFlag(JsonSchemaType.String))
            {
                schema.Type = type & ~JsonSchemaType.String;
                schema.Pattern = null;
            }
            return Task.CompletedTask;
        });
        options.AddDocumentTransformer(async (document, context, ct) =>
        {
            // Enums inside the messages by reference: inline, a generator's list of an enum's values
            // would be typed through the nullable object holding it (a LiveJoined's question).
            var enums = new Dictionary<Type, IOpenApiSchema>();
            foreach (var type in HubMessages().SelectMany(EnumsIn).Distinct())
            {
                if (document.Components?.Schemas?.ContainsKey(type.Name) != true)
                    document.AddComponent(type.Name, await context.GetOrCreateSchemaAsync(type, cancellationToken: ct));
                enums[type] = new OpenApiSchemaReference(type.Name, document);
            }
            foreach (var type in HubMessages())
            {
                var schema = await context.GetOrCreateSchemaAsync(type, cancellationToken: ct);
                MarkNullable(type, schema, new NullabilityInfoContext(), enums);
                document.AddComponent(type.Name, schema);
            }
            document.AddComponent<IOpenApiSchema>(ErrorCodeSchema, new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = "The code a /hubs/play call fails with: its HubException message is \"code: text\" (docs/protocol.md, section 5).",
                Enum = [.. PlayErrors.All.Select(code => (JsonNode)JsonValue.Create(code))],
            });
        });
    });

    /// <summary>What the play hub's methods take and return, and what both hubs push: found, not listed, so a new method is described too.</summary>
    private static IEnumerable<Type> HubMessages() =>
        typeof(PlayHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Concat(typeof(IPlayClient).GetMethods())
            .Concat(typeof(Quiz.Server.Live.LiveHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Concat(typeof(Quiz.Server.Live.ILiveClient).GetMethods())
            .Concat(typeof(Quiz.Server.Dashboard.IDashboardClient).GetMethods())
            .SelectMany(method => method.GetParameters().Select(p => p.ParameterType).Append(method.ReturnType))
            .Select(Unwrapped)
            .Where(type => type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("Quiz.", StringComparison.Ordinal) == true)
            .Distinct()
            .OrderBy(type => type.Name, StringComparer.Ordinal);

    /// <summary>
    /// A schema made outside an endpoint has its records inline (a RoundView's questions and
    /// answers), and an inline record loses what a reference keeps: that the property may be null
    /// (a given answer's <c>result</c>, a result's <c>ladder</c>). Say it again from the C# types.
    /// </summary>
    private static void MarkNullable(Type type, IOpenApiSchema schema, NullabilityInfoContext nullability, IReadOnlyDictionary<Type, IOpenApiSchema> enums)
    {
        if (schema is not OpenApiSchema { Properties: { } properties }) return;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var name = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            if (enums.TryGetValue(property.PropertyType, out var reference) && properties.ContainsKey(name))
            {
                properties[name] = reference;
                continue;
            }
            if (!properties.TryGetValue(name, out var inner) || inner is not OpenApiSchema value) continue;
            if (nullability.Create(property).ReadState == NullabilityState.Nullable && value.Type is { } kind && !kind.HasFlag(JsonSchemaType.Null))
                value.Type = kind | JsonSchemaType.Null;
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var element = propertyType.IsArray ? propertyType.GetElementType()
                : propertyType.IsGenericType && typeof(System.Collections.IEnumerable).IsAssignableFrom(propertyType) ? propertyType.GetGenericArguments()[^1]
                : null;
            if (element is not null && value.Items is { } items) MarkNullable(element, items, nullability, enums);
            else if (propertyType.IsClass && propertyType != typeof(string)) MarkNullable(propertyType, value, nullability, enums);
        }
    }

    /// <summary>The (non-nullable) enum types of a message's properties, at any depth.</summary>
    private static IEnumerable<Type> EnumsIn(Type type) => EnumsIn(type, []);

    private static IEnumerable<Type> EnumsIn(Type type, HashSet<Type> seen)
    {
        if (!seen.Add(type)) yield break;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var propertyType = property.PropertyType;
            var element = propertyType.IsArray ? propertyType.GetElementType()!
                : propertyType.IsGenericType && typeof(System.Collections.IEnumerable).IsAssignableFrom(propertyType) ? propertyType.GetGenericArguments()[^1]
                : propertyType;
            if (element.IsEnum) yield return element;
            else if (element.IsClass && element != typeof(string) && element.Namespace?.StartsWith("Quiz.", StringComparison.Ordinal) == true)
                foreach (var inner in EnumsIn(element, seen)) yield return inner;
        }
    }

    private static Type Unwrapped(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>) ? Unwrapped(type.GetGenericArguments()[0])
        : Nullable.GetUnderlyingType(type) ?? type;
}
