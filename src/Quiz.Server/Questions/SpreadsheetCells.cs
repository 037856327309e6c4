namespace Quiz.Server.Questions;

/// <summary>
/// Text that Excel or WPS would run as a formula (CSV injection, e.g. a unit named
/// <c>=cmd|' /C calc'!A0</c>): imports refuse it, and exports defuse what is in the store anyway,
/// as OWASP's CSV-injection advice says: a cell starting with = + - @, tab or CR gets a leading
/// single quote, which the spreadsheet shows as text and never runs.
/// </summary>
public static class SpreadsheetCells
{
    public static bool StartsLikeFormula(string text) => text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r';

    /// <summary>The import error for a field that starts like a formula.</summary>
    public static string FormulaError(string column, string text) =>
        $"{column} starts with '{text[0]}' and would be taken as a spreadsheet formula; remove that character";

    /// <summary>A text cell for an export (CSV or XLSX): shown as written, never run.</summary>
    public static string Defuse(string text) => StartsLikeFormula(text) ? "'" + text : text;

    /// <summary>A defused text cell, quoted for CSV when it needs to be.</summary>
    public static string CsvField(string text) => QuestionTemplates.Quote(Defuse(text));
}
