using MiniExcelLibs;

namespace Quiz.Server.Tests.Hosting;

public sealed class SpreadsheetsTests
{
    /// <summary>
    /// A small XLSX costs little memory. MiniExcel's default writer buffers (512 K characters a part
    /// of the file, on the large object heap) made ~15 MB of garbage for one row, and a node that
    /// wrote the day's circulars made dozens of full collections (BENCHMARKS.md). The file still
    /// reads back as written.
    /// </summary>
    [Fact]
    public void ASmallSheetIsWrittenWithoutMegabytesOfBuffers()
    {
        string[] header = ["单位", "参与人数"];
        IReadOnlyDictionary<string, object?>[] rows = [new Dictionary<string, object?> { ["单位"] = "=瑶海区", ["参与人数"] = 12 }];
        Quiz.Server.Hosting.Spreadsheets.Xlsx(header, rows); // the first call loads and compiles; measure the second

        var before = GC.GetAllocatedBytesForCurrentThread();
        var xlsx = Quiz.Server.Hosting.Spreadsheets.Xlsx(header, rows);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 2_000_000, $"{allocated:N0} bytes allocated for a sheet of one row");
        var read = MiniExcel.Query(new MemoryStream(xlsx), useHeaderRow: true).Cast<IDictionary<string, object>>().Single();
        Assert.Equal("'=瑶海区", read["单位"]);
        Assert.Equal(12d, Convert.ToDouble(read["参与人数"], System.Globalization.CultureInfo.InvariantCulture));
    }
}
