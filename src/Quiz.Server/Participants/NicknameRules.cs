using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Quiz.Server.Participants;

/// <summary>
/// What a nickname may be. It is shown to everyone (leaderboards, share posters), so: 1 to 20
/// characters; no control, format or bidi characters (U+202E can make a name read backwards, and
/// zero-width ones hide a blocked word); and no entry of the block list (data, in
/// nickname-blocklist.txt beside this file), matched after normalising both sides so full-width
/// letters, case, spaces and punctuation between the characters do not get a word past it.
/// </summary>
public static class NicknameRules
{
    public const int MaxLength = 20;
    public const string ListFile = "nickname-blocklist.txt";

    private static FrozenSet<string>? _blocked;

    /// <summary>The normalised block list, read once from the file beside the binaries.</summary>
    public static IReadOnlySet<string> Blocked => _blocked ??= Load(Path.Combine(AppContext.BaseDirectory, "Participants", ListFile));

    public static FrozenSet<string> Load(string file) =>
        File.ReadLines(file)
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(Normalise)
            .Where(word => word.Length > 0)
            .ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Why this (already trimmed) nickname is refused, or null when it is fine.</summary>
    public static string? Check(string? nickname)
    {
        if (string.IsNullOrEmpty(nickname) || nickname.Length > MaxLength) return $"a nickname of 1 to {MaxLength} characters is required";
        if (Invisible(nickname) is { } rune)
            return $"the nickname contains an invisible or control character (U+{rune.Value:X4}); type it again without it";
        return IsBlocked(nickname) ? "this nickname is not allowed; choose another" : null;
    }

    /// <summary>
    /// Why a short public text other than a nickname (a survey's free answer) is refused, or null:
    /// the same filter, at its own length.
    /// </summary>
    public static string? CheckText(string text, int maxLength)
    {
        if (text.Length > maxLength) return $"at most {maxLength} characters (this one has {text.Length})";
        if (Invisible(text) is { } rune) return $"the text contains an invisible or control character (U+{rune.Value:X4}); type it again without it";
        return IsBlocked(text) ? "the text contains a word that is not allowed" : null;
    }

    private static Rune? Invisible(string text)
    {
        foreach (var rune in text.EnumerateRunes())
            if (IsInvisible(rune)) return rune;
        return null;
    }

    private static bool IsBlocked(string text)
    {
        var normalised = Normalise(text);
        return Blocked.Any(word => normalised.Contains(word, StringComparison.Ordinal));
    }

    private static bool IsInvisible(Rune rune) => Rune.GetUnicodeCategory(rune) is
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
        || rune == Rune.ReplacementChar; // what a lone surrogate decodes to

    /// <summary>NFKC (full-width and compatibility forms to plain ones), lower case, and only letters, marks and digits kept.</summary>
    public static string Normalise(string text)
    {
        var folded = text.Normalize(NormalizationForm.FormKC).ToLowerInvariant();
        var kept = new StringBuilder(folded.Length);
        foreach (var rune in folded.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune) || Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark)
                kept.Append(rune.ToString());
        }
        return kept.ToString();
    }
}
