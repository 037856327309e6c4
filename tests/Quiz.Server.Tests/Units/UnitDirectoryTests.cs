using System.Net;
using System.Net.Http.Json;
using System.Text;
using Quiz.Server.Tests.Infrastructure;
using Quiz.Server.Tests.Questions;
using Quiz.Server.Units;

namespace Quiz.Server.Tests.Units;

public sealed class UnitDirectoryTests : IDisposable
{
    private readonly QuizApplication _app = new();

    public void Dispose() => _app.Dispose();

    private async Task<HttpResponseMessage> UploadAsync(params (string Name, string Content)[] files)
    {
        using var client = _app.CreateAdminClient();
        using var form = new MultipartFormDataContent();
        foreach (var (name, content) in files) form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(content)), "files", name);
        return await client.PostAsync("/api/admin/units/import", form);
    }

    [Fact]
    public async Task TheBundledHierarchyImportsWithAllProvincesAndAnhuiDownToCounties()
    {
        var folder = Path.Combine(QuestionBankContentTests.BankFolder, "units");
        var result = await _app.Service<UnitImport>().ImportAsync(
            Directory.GetFiles(folder, "*.csv").Select(f => (f, Path.GetFileName(f))).ToList());

        Assert.True(result.Ok, string.Join("; ", result.Errors.Take(10)));
        var units = _app.Service<UnitDirectory>();
        Assert.Equal(31, units.Children(null).Count);
        var anhuiCities = units.Children("340000");
        Assert.Equal(16, anhuiCities.Count);
        Assert.All(anhuiCities, city => Assert.NotEmpty(units.Children(city.Code)));
        Assert.True(units.Organisations.Count >= 40);
        Assert.All(units.Organisations, o => Assert.True(o.IsDemo));
        Assert.All(UnitDirectory.OrganisationTypes, t => Assert.Contains(units.Organisations, o => o.Type == t));
    }

    [Fact]
    public async Task TheLookupServesCascadingPickersAndOrganisationSearch()
    {
        (await UploadAsync(("regions.csv", PlayWorld.Regions), ("organisations.csv", PlayWorld.Organisations))).EnsureSuccessStatusCode();
        using var client = _app.CreateClient();

        var provinces = await client.GetFromJsonAsync<List<UnitsApi.RegionView>>("/api/units/regions");
        var counties = await client.GetFromJsonAsync<List<UnitsApi.RegionView>>($"/api/units/regions?parent={PlayWorld.City}");
        var county = await client.GetFromJsonAsync<UnitsApi.RegionDetail>($"/api/units/regions/{PlayWorld.County}");
        var banks = await client.GetFromJsonAsync<List<UnitsApi.OrganisationView>>("/api/units/organisations?q=%E9%93%B6%E8%A1%8C"); // 银行
        var inLuyang = await client.GetFromJsonAsync<List<UnitsApi.OrganisationView>>($"/api/units/organisations?region={PlayWorld.OtherCounty}");

        Assert.Equal((PlayWorld.Province, true), (Assert.Single(provinces!).Code, provinces![0].HasChildren));
        Assert.Equal([PlayWorld.County, PlayWorld.OtherCounty], counties!.Select(c => c.Code));
        Assert.All(counties!, c => Assert.False(c.HasChildren));
        Assert.Equal([PlayWorld.Province, PlayWorld.City, PlayWorld.County], county!.Path.Select(p => p.Code));
        Assert.Equal(PlayWorld.Bank, Assert.Single(banks!).Code);
        Assert.Equal(PlayWorld.University, Assert.Single(inLuyang!).Code);
    }

    [Fact]
    public async Task ABadUnitFileImportsNothingAndNamesEveryRow()
    {
        const string regions = """
            code,name,parent_code,level,headcount_base
            340000,安徽省,,province,50000000
            340100,合肥市,349999,city,8000000
            340102,瑶海区,340100,county,-5
            340000,重复,,province,1
            """;

        using var response = await UploadAsync(("regions.csv", regions), ("organisations.csv", PlayWorld.Organisations));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<UnitImport.ImportResult>();
        Assert.Contains(result!.Errors, e => e.Row == 3 && e.Column == "parent_code");
        Assert.Contains(result.Errors, e => e.Row == 4 && e.Column == "headcount_base");
        Assert.Contains(result.Errors, e => e.Row == 5 && e.Column == "code");
        Assert.Contains(result.Errors, e => e.File == "organisations.csv" && e.Column == "region_code");
        Assert.Empty(_app.Service<UnitDirectory>().Regions);
    }

    [Fact]
    public async Task NamesThatStartLikeASpreadsheetFormulaAreRefusedAsTheQuestionImportRefusesThem()
    {
        const string regions = """
            code,name,parent_code,level,headcount_base
            340000,安徽省,,province,50000000
            340100,"=cmd|' /C calc'!A0",340000,city,8000000
            340102,瑶海区,340100,+county,900000
            340103,庐阳区,340100,county,700000
            """;
        const string organisations = """
            code,name,type,region_code,headcount_base,demo
            ORG-001,@SUM(1+1)*cmd|' /C calc'!A0,bank,340102,1200,true
            """;

        using var response = await UploadAsync(("regions.csv", regions), ("organisations.csv", organisations));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<UnitImport.ImportResult>();
        Assert.Equal(
            [("regions.csv", 3, "name", "name starts with '=' and would be taken as a spreadsheet formula; remove that character"),
             ("regions.csv", 4, "level", "level starts with '+' and would be taken as a spreadsheet formula; remove that character"),
             ("organisations.csv", 2, "name", "name starts with '@' and would be taken as a spreadsheet formula; remove that character")],
            result!.Errors.Select(e => (e.File, e.Row ?? 0, e.Column ?? "", e.Reason)).OrderBy(e => e.File == "organisations.csv").ThenBy(e => e.Item2));
        Assert.Empty(_app.Service<UnitDirectory>().Regions);
    }
}
