using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quiz.Server.Play;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Hosting;

/// <summary>
/// The web pages' types are generated (openapi-typescript) from src/Quiz.Web/openapi.json, a copy
/// of the server's /openapi/v1.json kept in the repository so the front-end build needs no running
/// server. These tests keep the copy true: a change to an endpoint or a record that changes the
/// document fails here until the copy is regenerated, and the pages' typecheck then sees the change.
/// </summary>
public sealed class OpenApiDocumentTests(SharedServer server) : IClassFixture<SharedServer>
{
    /// <summary>Set to 1 to write the served document over the checked-in copy instead of comparing.</summary>
    public const string UpdateVariable = "QUIZ_UPDATE_OPENAPI";

    private const string Regenerate = "src/Quiz.Web/scripts/update-openapi.sh";

    private static readonly JsonSerializerOptions Written = new()
    {
        WriteIndented = true,
        // The document carries Chinese examples and descriptions: keep them readable in diffs.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    [Fact]
    public async Task TheCheckedInDocumentIsTheServedOne()
    {
        var served = await ServedAsync();
        var path = CheckedInPath();
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            await File.WriteAllTextAsync(path, served.ToJsonString(Written) + "\n");
            return;
        }
        Assert.True(File.Exists(path), $"{path} is missing; write it with {Regenerate}");
        var checkedIn = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        var difference = FirstDifference(checkedIn, served, "$");
        Assert.True(difference is null,
            $"src/Quiz.Web/openapi.json is not the server's /openapi/v1.json (first difference at {difference}); " +
            $"regenerate it with {Regenerate} (or {UpdateVariable}=1 dotnet test tests/Quiz.Server.Tests --filter FullyQualifiedName~{nameof(OpenApiDocumentTests)}) and commit it with src/Quiz.Web/src/shared/api.gen.ts");
    }

    [Fact]
    public async Task EveryHubErrorCodeIsInThePlayErrorCodeSchema()
    {
        var schema = (await ServedAsync())["components"]!["schemas"]!["PlayErrorCode"]!;
        Assert.Equal("string", schema["type"]!.GetValue<string>());
        var listed = schema["enum"]!.AsArray().Select(code => code!.GetValue<string>()).ToList();

        var constants = typeof(PlayErrors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!)
            .ToList();
        Assert.NotEmpty(constants);
        Assert.All(constants, code => Assert.Contains(code, listed));
        Assert.Contains(Quiz.Server.Storage.StoreUnavailableFilter.Code, listed);
        Assert.Equal(listed.Count, listed.Distinct().Count());
        Assert.Equal(constants.Order(), listed.Order());
    }

    /// <summary>The served document without <c>servers</c>, which names the address it was asked at.</summary>
    private async Task<JsonNode> ServedAsync()
    {
        using var client = server.App.CreateClient();
        var document = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!.AsObject();
        document.Remove("servers");
        return document;
    }

    private static string CheckedInPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "src", "Quiz.Web", "package.json")))
                return Path.Combine(dir.FullName, "src", "Quiz.Web", "openapi.json");
        throw new DirectoryNotFoundException("src/Quiz.Web not found above the test binaries");
    }

    /// <summary>The JSON path of the first place the two differ, or null when they are equal (key order aside).</summary>
    private static string? FirstDifference(JsonNode? expected, JsonNode? actual, string at)
    {
        switch (expected, actual)
        {
            case (null, null):
                return null;
            case (JsonObject e, JsonObject a):
                foreach (var key in e.Select(p => p.Key).Union(a.Select(p => p.Key)))
                {
                    if (!e.ContainsKey(key)) return $"{at}.{key} (only served)";
                    if (!a.ContainsKey(key)) return $"{at}.{key} (only checked in)";
                    if (FirstDifference(e[key], a[key], $"{at}.{key}") is { } inner) return inner;
                }
                return null;
            case (JsonArray e, JsonArray a):
                for (var i = 0; i < Math.Max(e.Count, a.Count); i++)
                {
                    if (i >= e.Count || i >= a.Count) return $"{at}[{i}] (lengths {e.Count} and {a.Count})";
                    if (FirstDifference(e[i], a[i], $"{at}[{i}]") is { } inner) return inner;
                }
                return null;
            default:
                return JsonNode.DeepEquals(expected, actual) ? null : at;
        }
    }
}
