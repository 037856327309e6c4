using System.Net;
using System.Net.Http.Json;
using Dapper;
using Quiz.Server.Accounts;
using Quiz.Server.Security;
using Quiz.Server.Storage;
using Quiz.Server.Tests.Hosting;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Accounts;

/// <summary>
/// Staff cookies are checked against the store (issue 10, finding 1), attacked as they were: a
/// cookie minted by a throw-away instance, a cookie kept after logout, a password guessed from
/// many addresses.
/// </summary>
public sealed class StaffSessionTests : IDisposable
{
    private readonly ProcessWorld _real = new();
    private readonly ProcessWorld _throwAway = new();

    public void Dispose()
    {
        _real.Dispose();
        _throwAway.Dispose();
    }

    private static async Task CreateAdminAsync(ProcessWorld world, string name)
    {
        var (exit, lines, errors) = await CommandLine.RunAsync("admin", "create", name, "--password", Staff.Password,
            $"--Storage:DataDir={world.DataDir}", $"--Seed:Path={world.BankDir}");
        Assert.True(exit == 0, string.Join("\n", lines) + errors);
    }

    /// <summary>Logs in with a cookie container of its own; returns the raw staff cookie.</summary>
    private static async Task<string> LoginAsync(ServerProcess server, string name)
    {
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = server.Address };
        using var login = await http.PostAsJsonAsync("/api/accounts/login", new { name, password = Staff.Password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("quiz.staff=", StringComparison.Ordinal)).Split(';')[0];
    }

    private static async Task<HttpStatusCode> WithCookieAsync(ServerProcess server, string cookie, string path, HttpMethod? method = null)
    {
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = server.Address };
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path) { Headers = { { "Cookie", cookie } } };
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task ACookieFromAThrowAwayInstanceIsRefusedEvenWithACopyOfTheKeyRing()
    {
        await CreateAdminAsync(_throwAway, "mallory");
        string forged;
        await using (var elsewhere = await _throwAway.StartServerAsync())
        {
            forged = await LoginAsync(elsewhere, "mallory");
            Assert.Equal(HttpStatusCode.OK, await WithCookieAsync(elsewhere, forged, "/api/admin/accounts"));
        }

        await CreateAdminAsync(_real, "root");
        await using (var real = await _real.StartServerAsync())
            Assert.Equal(HttpStatusCode.Unauthorized, await WithCookieAsync(real, forged, "/api/admin/accounts"));

        // Even when the attacker holds the deployment's key ring (the cookie decrypts), the
        // session it names is not in this store.
        await using (var attacker = _throwAway.OpenStore())
        await using (var store = _real.OpenStore())
        {
            var ring = (await attacker.QueryAsync<(string FriendlyName, string Xml, string CreatedAt)>(
                "SELECT friendly_name, xml, created_at FROM data_protection_keys")).ToList();
            Assert.NotEmpty(ring);
            await store.ExecuteAsync("DELETE FROM data_protection_keys");
            foreach (var key in ring)
                await store.ExecuteAsync("INSERT INTO data_protection_keys (friendly_name, xml, created_at) VALUES (@FriendlyName, @Xml, @CreatedAt)",
                    new { key.FriendlyName, key.Xml, key.CreatedAt });
        }
        await using (var real = await _real.StartServerAsync())
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await WithCookieAsync(real, forged, "/api/admin/accounts"));
            var own = await LoginAsync(real, "root");
            Assert.Equal(HttpStatusCode.OK, await WithCookieAsync(real, own, "/api/admin/accounts"));
        }
        // The key ring is the deployment's, kept in its store for every node, not in a node's folder.
        Assert.False(Directory.Exists(Path.Combine(_real.DataDir, "keys")), "a key ring was written to the data folder");
    }

    [Fact]
    public async Task ACookieKeptAfterLogoutNoLongerWorksAndSessionsSurviveARestart()
    {
        await CreateAdminAsync(_real, "root");
        string cookie, kept;
        await using (var server = await _real.StartServerAsync())
        {
            cookie = await LoginAsync(server, "root");
            kept = await LoginAsync(server, "root");
            Assert.Equal(HttpStatusCode.OK, await WithCookieAsync(server, cookie, "/api/admin/accounts"));
            Assert.Equal(HttpStatusCode.NoContent, await WithCookieAsync(server, cookie, "/api/accounts/logout", HttpMethod.Post));
            Assert.Equal(HttpStatusCode.Unauthorized, await WithCookieAsync(server, cookie, "/api/admin/accounts"));
        }
        // Another process on the same store: the open session still works, the ended one does not.
        await using (var again = await _real.StartServerAsync())
        {
            Assert.Equal(HttpStatusCode.OK, await WithCookieAsync(again, kept, "/api/accounts/me"));
            Assert.Equal(HttpStatusCode.Unauthorized, await WithCookieAsync(again, cookie, "/api/accounts/me"));
        }
    }
}

/// <summary>Per-name lockout with back-off, and a session that ends when its account's scope changes.</summary>
public sealed class LoginLockoutTests : IAsyncLifetime
{
    private readonly QuizApplication _app = new();

    public Task InitializeAsync() => PlayWorld.SeedAsync(_app);

    public Task DisposeAsync()
    {
        _app.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task RepeatedWrongPasswordsLockTheNameWithABackOffThatEvenTheRightPasswordWaitsOut()
    {
        await Staff.CreateAsync(_app, "hefei", Roles.UnitStaff, PlayWorld.City);
        using var client = _app.CreateClient();
        for (var i = 0; i < AccountStore.FreeFailures; i++)
        {
            // Each guess as if from another address: the lock is per name, not per address.
            using var wrong = await client.PostAsJsonAsync("/api/accounts/login", new { name = "hefei", password = $"guess number {i}" });
            Assert.True(wrong.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests, wrong.StatusCode.ToString());
        }
        using var locked = await client.PostAsJsonAsync("/api/accounts/login", new { name = "hefei", password = Staff.Password });
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        var retryAfter = int.Parse(locked.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, (int)AccountStore.FirstLock.TotalSeconds);

        // An unknown name locks the same way, so a lock does not tell which names exist.
        for (var i = 0; i <= AccountStore.FreeFailures; i++)
            await client.PostAsJsonAsync("/api/accounts/login", new { name = "nobody", password = $"guess {i}" });
        using var unknown = await client.PostAsJsonAsync("/api/accounts/login", new { name = "nobody", password = "guess" });
        Assert.Equal(HttpStatusCode.TooManyRequests, unknown.StatusCode);

        _app.Clock.Advance(AccountStore.FirstLock + TimeSpan.FromSeconds(1));
        using var wrongAgain = await client.PostAsJsonAsync("/api/accounts/login", new { name = "hefei", password = "still wrong" });
        using var lockedLonger = await client.PostAsJsonAsync("/api/accounts/login", new { name = "hefei", password = Staff.Password });
        Assert.Equal(HttpStatusCode.TooManyRequests, lockedLonger.StatusCode);
        Assert.True(int.Parse(lockedLonger.Headers.GetValues("Retry-After").Single()) > AccountStore.FirstLock.TotalSeconds, "the lock doubles");

        _app.Clock.Advance(AccountStore.FirstLock * 2 + TimeSpan.FromSeconds(1));
        using var ok = await client.PostAsJsonAsync("/api/accounts/login", new { name = "hefei", password = Staff.Password });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task ASessionEndsWhenItsAccountsScopeChangesOrTheAccountIsRemoved()
    {
        using var client = await Staff.LoginAsync(_app, "wuhu", Roles.UnitStaff, PlayWorld.City);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/accounts/me")).StatusCode);

        await using (var connection = await _app.Service<Database>().OpenAsync())
            await connection.ExecuteAsync("UPDATE accounts SET unit_code = @unit WHERE name = 'wuhu'", new { unit = PlayWorld.OtherCounty });
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/accounts/me")).StatusCode);

        using var other = await Staff.LoginAsync(_app, "bengbu", Roles.UnitStaff, PlayWorld.City);
        await using (var connection = await _app.Service<Database>().OpenAsync())
            await connection.ExecuteAsync("DELETE FROM accounts WHERE name = 'bengbu'");
        Assert.Equal(HttpStatusCode.Unauthorized, (await other.GetAsync("/api/accounts/me")).StatusCode);
    }

    [Fact]
    public async Task AStaffSessionExpiresInTheStore()
    {
        using var client = await Staff.LoginAsync(_app, "huainan", Roles.UnitStaff, PlayWorld.City);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/accounts/me")).StatusCode);
        _app.Clock.Advance(StaffSessions.Lifetime + TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/accounts/me")).StatusCode);
    }
}
