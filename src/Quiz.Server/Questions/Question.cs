using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Quiz.Server.Questions;

public static class QuestionTypes
{
    public const string Single = "single";
    public const string Multiple = "multiple";
    public const string TrueFalse = "truefalse";
    public static readonly string[] All = [Single, Multiple, TrueFalse];
}

public static class Tracks
{
    public static readonly string[] All = ["elderly", "student", "workplace", "countryside", "city", "general"];
}

/// <summary>One question's content as authored; the store keeps every version of it.</summary>
public sealed record Question(
    string Id,
    string Type,
    string Stem,
    IReadOnlyList<string> Options,
    string Answer,
    string Explanation,
    string Source,
    IReadOnlyList<string> Tracks,
    string Category,
    int Difficulty,
    IReadOnlyList<string> Tags)
{
    /// <summary>Options shown as true/false questions must carry, in this order.</summary>
    public static readonly string[] TrueFalseOptions = ["正确", "错误"];

    /// <summary>Indexes (0-based) of the right options.</summary>
    public IEnumerable<int> AnswerIndexes => Answer.Select(c => c - 'A');

    /// <summary>
    /// A fingerprint of everything a player sees or is scored on: equal hashes mean the same
    /// version, so a re-import of an unchanged question changes nothing.
    /// </summary>
    public string ContentHash()
    {
        var canonical = JsonSerializer.Serialize(new object[]
        {
            Type, Stem, Options, Answer, Explanation, Source, Tracks, Category, Difficulty, Tags,
        });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }
}
