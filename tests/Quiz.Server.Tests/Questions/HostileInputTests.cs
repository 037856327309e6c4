using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Quiz.Server.Questions;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Questions;

/// <summary>
/// Files made to hurt: each gets a clear error, nothing is stored, the server carries on. One server
/// serves the class: every test expects the bank to stay empty, so each also checks that the ones
/// before it left nothing behind.
/// </summary>
public sealed class HostileInputTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly QuizApplication _app = server.App;

    private async Task<ImportReport> UploadExpectingErrorsAsync(string name, byte[] content)
    {
        using var response = await _app.UploadQuestionsAsync(false, (name, content));
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
        var report = await response.Content.ReadFromJsonAsync<ImportReport>();
        Assert.NotEmpty(report!.Errors);
        Assert.Equal(0, await _app.Service<QuestionBank>().CountAsync());
        await AssertServerStillServesAsync();
        return report;
    }

    private async Task AssertServerStillServesAsync(QuizApplication? app = null)
    {
        using var client = (app ?? _app).CreateClient();
        Assert.Equal("ok", await client.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task AHugeUploadIsRefusedWithoutReadingItAll()
    {
        // Over real Kestrel and a raw socket, as a browser or curl sends it: the in-memory test
        // server buffers whole bodies, and HttpClient keeps writing after an early answer.
        using var app = new QuizApplication(kestrel: true);
        using var http = app.CreateClient();
        var address = http.BaseAddress!;
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var stream = tcp.GetStream();
        const string boundary = "huge-boundary";
        var head = $"POST /api/admin/questions/import HTTP/1.1\r\nHost: {address.Authority}\r\n{Quiz.Server.Admin.AdminKey.Header}: {QuizApplication.AdminKeyValue}\r\n" +
                   $"Content-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await WriteChunkAsync(stream, Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"huge.csv\"\r\n\r\n"));

        long sent = 0;
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)' ');
        try
        {
            // 200 MB at most; stop as soon as the server answers or hangs up.
            while (sent < 200L * 1024 * 1024 && tcp.Available == 0)
            {
                await WriteChunkAsync(stream, chunk);
                sent += chunk.Length;
            }
        }
        catch (IOException)
        {
        }

        var answer = new byte[4096];
        var read = await stream.ReadAsync(answer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("HTTP/1.1 413", Encoding.ASCII.GetString(answer, 0, read));
        Assert.True(sent < 64L * 1024 * 1024, $"the client got to send {sent:N0} bytes before the server refused");
        await AssertServerStillServesAsync(app);
    }

    private static async Task WriteChunkAsync(Stream stream, byte[] data)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{data.Length:X}\r\n"));
        await stream.WriteAsync(data);
        await stream.WriteAsync("\r\n"u8.ToArray());
    }

    [Fact]
    public async Task AnXlsxZipBombIsStoppedAtTheLimit()
    {
        using var small = new QuizApplication().With("Import:MaxUncompressedBytes", "8388608"); // 8 MB
        var bomb = ZipBomb(64 * 1024 * 1024, lieAboutSize: false);

        using var response = await small.UploadQuestionsAsync(false, ("bomb.xlsx", bomb));

        var report = await response.Content.ReadFromJsonAsync<ImportReport>();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Import:MaxUncompressedBytes", Assert.Single(report!.Errors).Reason);
    }

    [Fact]
    public async Task AZipBombThatLiesAboutItsSizeIsStoppedToo()
    {
        var path = SampleQuestions.WriteTemp(ZipBomb(64 * 1024 * 1024, lieAboutSize: true), ".xlsx");
        try
        {
            var reader = new QuestionFileReader(new ImportOptions { MaxUncompressedBytes = 8 * 1024 * 1024 });
            var result = await reader.ReadAsync(path, "bomb.xlsx");
            var error = Assert.Single(result.Errors);
            Assert.True(error.Reason.Contains("MaxUncompressedBytes") || error.Reason.Contains("damaged"), error.Reason);
            Assert.Empty(result.Drafts);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public async Task AMillionRowCsvStopsAtTheRowLimit()
    {
        var path = Path.Combine(Path.GetTempPath(), $"quiz-million-{Guid.NewGuid():N}.csv");
        await using (var writer = new StreamWriter(path, false, new UTF8Encoding(false)))
        {
            await writer.WriteAsync("id,type,stem,option_a,option_b,answer,explanation,source,tracks,category,difficulty\n");
            for (var i = 0; i < 1_000_000; i++) await writer.WriteAsync($"Q{i},single,s{i}?,a,b,A,e,s,general,law,1\n");
        }
        try
        {
            var limits = new ImportOptions { MaxFileBytes = 200L * 1024 * 1024 };

            var result = await new QuestionFileReader(limits).ReadAsync(path, "million.csv");

            Assert.Contains("more than 20,000 questions", Assert.Single(result.Errors).Reason);
            Assert.Equal(20_000, result.Drafts.Count);

            // It stopped reading: the 20,001st row lies under 1 MB into the 40 MB file. (Read off the
            // file's position, not allocations: the read awaits, so no one thread's allocation counter sees it all.)
            await using var file = File.OpenRead(path);
            await CsvQuestionReader.ReadAsync(limits, file, "million.csv", new QuestionFileReader.Result(), CancellationToken.None);
            Assert.InRange(file.Position, 512L * 1024, 4L * 1024 * 1024);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public async Task InvalidUtf8IsAnErrorNotMojibake()
    {
        var csv = SampleQuestions.Csv(SampleQuestions.Rows(2));
        byte[] broken = [.. csv.Take(200), 0xFF, 0xFE, 0xFF, .. csv.Skip(200)];
        var report = await UploadExpectingErrorsAsync("broken.csv", broken);
        Assert.Contains("not valid", Assert.Single(report.Errors).Reason);
    }

    [Fact]
    public async Task InvalidUtf8InJsonIsAnError()
    {
        var json = SampleQuestions.Json(SampleQuestions.Rows(1));
        var at = Array.IndexOf(json, (byte)'T'); // inside the id string
        json[at] = 0xC3;
        json[at + 1] = 0x28;
        var report = await UploadExpectingErrorsAsync("broken.json", json);
        Assert.Contains("UTF-8", Assert.Single(report.Errors).Reason);
    }

    [Fact]
    public async Task FormulaCellsInXlsxAreRefused()
    {
        var xlsx = WithFormula(SampleQuestions.Xlsx(SampleQuestions.Rows(2)), cell: "C3");
        var report = await UploadExpectingErrorsAsync("formula.xlsx", xlsx);
        var error = Assert.Single(report.Errors);
        Assert.Equal((3, "C"), (error.Row, error.Column));
        Assert.Contains("formula", error.Reason);
    }

    [Fact]
    public async Task FormulaTextInCsvIsRefused()
    {
        var rows = SampleQuestions.Rows(2);
        rows[0]["option_a"] = "=cmd|' /C calc'!A0";
        var report = await UploadExpectingErrorsAsync("formula.csv", SampleQuestions.Csv(rows));
        Assert.Contains("spreadsheet formula", Assert.Single(report.Errors).Reason);
    }

    public static TheoryData<string, byte[], string> Impostors() => new()
    {
        { "questions.xlsx", SampleQuestions.Csv(SampleQuestions.Rows(1)), "not an XLSX workbook" },
        { "questions.csv", SampleQuestions.Xlsx(SampleQuestions.Rows(1)), "is a zip archive" },
        { "questions.json", SampleQuestions.Xlsx(SampleQuestions.Rows(1)), "is a zip archive" },
        { "questions.json", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D], "not a text file" },
        { "questions.json", SampleQuestions.Csv(SampleQuestions.Rows(1)), "not valid JSON" },
        { "questions.xlsx", PlainZip(), "not an XLSX workbook" },
        { "questions.exe", [0x4D, 0x5A, 0x90, 0], "not question sets" },
        { "questions.csv", [], "empty" },
    };

    [Theory]
    [MemberData(nameof(Impostors))]
    public async Task AFileThatIsNotWhatItsNameSaysIsNamedSo(string name, byte[] content, string reason)
    {
        var report = await UploadExpectingErrorsAsync(name, content);
        Assert.Contains(reason, Assert.Single(report.Errors).Reason);
    }

    [Fact]
    public async Task AMalformedUploadGetsAProblemNotACrash()
    {
        using var client = _app.CreateAdminClient();
        using var content = new StringContent("--x\r\nnot really multipart", Encoding.UTF8);
        content.Headers.ContentType = new("multipart/form-data");
        content.Headers.ContentType.Parameters.Add(new("boundary", "x"));

        using var response = await client.PostAsync("/api/admin/questions/import", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        await AssertServerStillServesAsync();
    }

    private static byte[] ZipBomb(int bytes, bool lieAboutSize)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            zip.CreateEntry("xl/workbook.xml").Open().Dispose();
            using var sheet = zip.CreateEntry("xl/worksheets/sheet1.xml", CompressionLevel.Optimal).Open();
            var zeros = new byte[1024 * 1024];
            Array.Fill(zeros, (byte)' ');
            for (var written = 0; written < bytes; written += zeros.Length) sheet.Write(zeros);
        }
        var data = stream.ToArray();
        if (lieAboutSize) LieAboutSizes(data);
        return data;
    }

    /// <summary>Rewrites every declared uncompressed size to 1 KB, as a hostile zip would.</summary>
    private static void LieAboutSizes(byte[] zip)
    {
        for (var i = 0; i + 4 <= zip.Length; i++)
        {
            var signature = BitConverter.ToUInt32(zip, i);
            if (signature == 0x04034b50 && i + 26 <= zip.Length) BitConverter.TryWriteBytes(zip.AsSpan(i + 22, 4), 1024u);
            else if (signature == 0x02014b50 && i + 28 <= zip.Length) BitConverter.TryWriteBytes(zip.AsSpan(i + 24, 4), 1024u);
        }
    }

    private static byte[] PlainZip()
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
            using (var writer = new StreamWriter(zip.CreateEntry("readme.txt").Open())) writer.Write("hello");
        return stream.ToArray();
    }

    private static byte[] WithFormula(byte[] xlsx, string cell)
    {
        using var stream = new MemoryStream();
        stream.Write(xlsx);
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            var entry = zip.Entries.First(e => e.FullName.StartsWith("xl/worksheets/sheet", StringComparison.Ordinal));
            string xml;
            using (var reader = new StreamReader(entry.Open())) xml = reader.ReadToEnd();
            xml = Regex.Replace(xml, $"<x:c r=\"{cell}\"[^>]*>.*?</x:c>|<c r=\"{cell}\"[^>]*>.*?</c>",
                m => m.Value.StartsWith("<x:", StringComparison.Ordinal)
                    ? $"<x:c r=\"{cell}\"><x:f>1+1</x:f><x:v>2</x:v></x:c>"
                    : $"<c r=\"{cell}\"><f>1+1</f><v>2</v></c>");
            Assert.Contains("1+1", xml);
            entry.Delete();
            using var writer = new StreamWriter(zip.CreateEntry(entry.FullName).Open());
            writer.Write(xml);
        }
        return stream.ToArray();
    }
}
