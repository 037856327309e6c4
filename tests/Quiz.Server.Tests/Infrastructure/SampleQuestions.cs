using System.Text;
using System.Text.Json;
using MiniExcelLibs;
using Quiz.Server.Hosting;
using Quiz.Server.Questions;

namespace Quiz.Server.Tests.Infrastructure;

/// <summary>Builds question files in every format from the same rows, so formats can be compared.</summary>
public static class SampleQuestions
{
    public static Dictionary<string, string> Row(string id, string stem = "哪一种做法最可能是非法集资？", string type = "single",
        string answer = "B", int options = 4) => new()
    {
        ["id"] = id,
        ["type"] = type,
        ["stem"] = stem,
        ["option_a"] = type == "truefalse" ? "正确" : "银行存款",
        ["option_b"] = type == "truefalse" ? "错误" : "承诺保本高息、向社会公开拉人投资",
        ["option_c"] = options > 2 && type != "truefalse" ? "购买国债" : "",
        ["option_d"] = options > 3 && type != "truefalse" ? "缴纳社保" : "",
        ["answer"] = answer,
        ["explanation"] = "承诺保本高息并公开宣传，是非法集资的典型特征。",
        ["source"] = "《防范和处置非法集资条例》第二条",
        ["tracks"] = "general|elderly",
        ["category"] = "features",
        ["difficulty"] = "2",
        ["tags"] = "高息|特征",
    };

    public static List<Dictionary<string, string>> Rows(int count, string prefix = "T") =>
        Enumerable.Range(1, count).Select(i => Row($"{prefix}-{i:000}", stem: $"{prefix}组第{i}题：哪一种做法最可能是非法集资？")).ToList();

    public static string CsvText(IEnumerable<Dictionary<string, string>> rows)
    {
        var list = rows.ToList();
        var columns = list[0].Keys.ToList();
        var text = new StringBuilder(string.Join(',', columns)).Append("\r\n");
        foreach (var row in list) text.AppendJoin(',', columns.Select(c => Spreadsheets.Quote(row[c]))).Append("\r\n");
        return text.ToString();
    }

    public static byte[] Csv(IEnumerable<Dictionary<string, string>> rows, Encoding? encoding = null, bool bom = false)
    {
        var bytes = (encoding ?? new UTF8Encoding(false)).GetBytes(CsvText(rows));
        return bom ? [.. Encoding.UTF8.GetPreamble(), .. bytes] : bytes;
    }

    public static byte[] Xlsx(IEnumerable<Dictionary<string, string>> rows)
    {
        using var stream = new MemoryStream();
        stream.SaveAs(rows.Select(r => r.ToDictionary(kv => kv.Key, kv => (object)kv.Value)), excelType: ExcelType.XLSX);
        return stream.ToArray();
    }

    public static byte[] Json(IEnumerable<Dictionary<string, string>> rows) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        questions = rows.Select(r => new Dictionary<string, object>
        {
            ["id"] = r["id"], ["type"] = r["type"], ["stem"] = r["stem"],
            ["options"] = new[] { r["option_a"], r["option_b"], r["option_c"], r["option_d"] }.Where(o => o.Length > 0).ToArray(),
            ["answer"] = r["answer"], ["explanation"] = r["explanation"], ["source"] = r["source"],
            ["tracks"] = r["tracks"].Split('|'), ["category"] = r["category"], ["difficulty"] = int.Parse(r["difficulty"]),
            ["tags"] = r["tags"].Split('|'),
        }),
    });

    public static string WriteTemp(byte[] content, string extension)
    {
        var path = Path.Combine(Path.GetTempPath(), $"quiz-test-{Guid.NewGuid():N}{extension}");
        File.WriteAllBytes(path, content);
        return path;
    }
}
