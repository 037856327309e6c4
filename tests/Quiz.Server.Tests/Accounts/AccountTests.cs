using System.Net;
using System.Net.Http.Json;
using Dapper;
using Quiz.Server.Accounts;
using Quiz.Server.Security;
using Quiz.Server.Storage;
using Quiz.Server.Tests.Hosting;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Accounts;

/// <remarks>One seeded server for the class: each test names accounts of its own.</remarks>
public sealed class AccountTests(SeededServer server) : IClassFixture<SeededServer>
{
    private readonly QuizApplication _app = server.App;

    [Fact]
    public async Task StaffLogInSeeWhoTheyAreAndLogOut()
    {
        await Staff.CreateAsync(_app, "hefei", Roles.UnitStaff, PlayWorld.City);
        using var client = _app.CreateClient();

        using var wrong = await client.PostAsJsonAsync("/api/accounts/login", new { name = "hefei", password = "not the password" });
        using var before = await client.GetAsync("/api/accounts/me");
        var login = await client.PostAsJsonAsync("/api/accounts/login", new { name = "HEFEI", password = Staff.Password });
        var me = await client.GetFromJsonAsync<AccountsApi.StaffView>("/api/accounts/me");
        await client.PostAsync("/api/accounts/logout", null);
        using var after = await client.GetAsync("/api/accounts/me");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Equal(new AccountsApi.StaffView("hefei", Roles.UnitStaff, PlayWorld.City, "合肥市"), me);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task TheListPlacesEachAccountsUnitInTheHierarchy()
    {
        await Staff.CreateAsync(_app, "county-clerk", Roles.UnitStaff, PlayWorld.County);
        await Staff.CreateAsync(_app, "bank-clerk", Roles.UnitStaff, PlayWorld.Bank);
        await Staff.CreateAsync(_app, "list-admin", Roles.Admin, null);
        using var admin = _app.CreateAdminClient();

        var listed = (await admin.GetFromJsonAsync<AccountsApi.AccountView[]>("/api/admin/accounts"))!.ToDictionary(a => a.Name);

        Assert.Equal(new AccountsApi.AccountView("county-clerk", Roles.UnitStaff, PlayWorld.County, "安徽省 合肥市 瑶海区"), listed["county-clerk"]);
        Assert.Equal(new AccountsApi.AccountView("bank-clerk", Roles.UnitStaff, PlayWorld.Bank, "江淮示范银行"), listed["bank-clerk"]);
        Assert.Equal(new AccountsApi.AccountView("list-admin", Roles.Admin, null, null), listed["list-admin"]);
    }

    [Fact]
    public async Task PasswordsAreStoredOnlyAsHashes()
    {
        await Staff.CreateAsync(_app, "auditor", Roles.Admin, null);
        await using var connection = await _app.Service<Database>().OpenAsync();
        var hash = await connection.ExecuteScalarAsync<string>("SELECT password_hash FROM accounts WHERE name = 'auditor'");
        Assert.DoesNotContain(Staff.Password, hash);
        Assert.True(hash!.Length > 40);
    }

    [Fact]
    public async Task BadAccountsAreRefusedWithTheFieldNamed()
    {
        using var admin = _app.CreateAdminClient();
        using var shortPassword = await admin.PostAsJsonAsync("/api/admin/accounts", new { name = "a", password = "short", role = "admin" });
        using var noUnit = await admin.PostAsJsonAsync("/api/admin/accounts", new { name = "b", password = Staff.Password, role = "unit-staff", unitCode = "999" });
        using var badRole = await admin.PostAsJsonAsync("/api/admin/accounts", new { name = "c", password = Staff.Password, role = "king" });
        await Staff.CreateAsync(_app, "taken", Roles.Admin, null);
        using var duplicate = await admin.PostAsJsonAsync("/api/admin/accounts", new { name = "taken", password = Staff.Password, role = "admin" });

        foreach (var (response, field) in new[] { (shortPassword, "password"), (noUnit, "unitCode"), (badRole, "role"), (duplicate, "name") })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>();
            Assert.Contains(field, problem!.Errors.Keys);
        }
    }

    [Fact]
    public async Task ChangesMadeWithTheCookieNeedTheAntiforgeryToken()
    {
        var withToken = await Staff.LoginAsync(_app, "boss", Roles.Admin);
        using var withoutToken = _app.CreateClient();
        (await withoutToken.PostAsJsonAsync("/api/accounts/login", new { name = "boss", password = Staff.Password })).EnsureSuccessStatusCode();
        var campaign = System.Text.Json.JsonSerializer.Serialize(PlayWorld.Campaign(), Quiz.Server.Campaigns.Campaign.Json);

        using var refused = await withoutToken.PutAsync($"/api/admin/campaigns/{PlayWorld.CampaignId}", new StringContent(campaign, System.Text.Encoding.UTF8, "application/json"));
        using var accepted = await withToken.PutAsync($"/api/admin/campaigns/{PlayWorld.CampaignId}", new StringContent(campaign, System.Text.Encoding.UTF8, "application/json"));
        using var readsNeedNoToken = await withoutToken.GetAsync("/api/admin/questions/templates/csv");

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Antiforgery", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readsNeedNoToken.StatusCode);
        withToken.Dispose();
    }

    [Fact]
    public async Task UnitStaffCannotUseAdminEndpoints()
    {
        using var staff = await Staff.LoginAsync(_app, "clerk", Roles.UnitStaff, PlayWorld.County);
        using var response = await staff.GetAsync("/api/admin/questions/");
        using var create = await staff.PostAsJsonAsync("/api/admin/accounts", new { name = "x", password = Staff.Password, role = "admin" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
    }

    [Fact]
    public async Task AWrongAdminKeyIsRefused()
    {
        using var client = _app.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", "guess");
        using var response = await client.GetAsync("/api/admin/questions/");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
