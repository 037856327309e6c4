using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Quiz.Server.Accounts;
using Quiz.Server.Participants;
using Quiz.Server.Play;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Web.Tests.Infrastructure;

/// <summary>
/// The real server on a loopback port, over its own store in a temporary folder, loaded with the
/// repository's question bank (units, 330 questions, the demo campaign, open from today, and the
/// season samples 2023-june, 2024-june and 2025-june), and one headless Debian chromium to drive
/// its pages. One per test run: each test makes its own players and accounts, so none depends on
/// another's data. The server's clock is real unless a test moves it to a season (<see cref="Clock"/>).
/// </summary>
public sealed class QuizSite : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string CampaignId = "demo";
    public const string AdminName = "web-admin";
    public const string Password = "correct horse battery";
    private const string Chromium = "/usr/bin/chromium";

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "quiz-web-tests", Guid.NewGuid().ToString("N"));
    private IPlaywright? _playwright;
    private static int _mobiles;

    public Uri Address { get; private set; } = null!;
    /// <summary>The server's log, where the codes of the embedded run's Log provider are written: what a player reads off their phone.</summary>
    public VerificationLog Codes { get; } = new();
    public IBrowser Browser { get; private set; } = null!;
    /// <summary>The server's clock: real time, or a season's date inside <see cref="ShiftedClock.TravelTo"/>.</summary>
    public ShiftedClock Clock { get; } = new();

    /// <summary>Screenshots of every page, for people to look at: TestResults/screenshots at the repository root.</summary>
    public static string Screenshots { get; } = Path.Combine(Repository.Root, "TestResults", "screenshots");

    public QuizSite() => UseKestrel(0);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Storage:DataDir", _dataDir);
        builder.UseSetting("Seed:Enabled", "true");
        builder.UseSetting("Seed:Path", Path.Combine(Repository.Root, "question-bank"));
        builder.UseSetting("RateLimits:RegistrationsPerMinutePerAddress", "100000");
        builder.UseSetting("RateLimits:RoundStartsPerMinutePerAddress", "100000");
        builder.UseSetting("RateLimits:RoundStartsPerMinutePerParticipant", "100000");
        // A number may have a new code after 10 s rather than a minute, so a test can take a number to a second phone.
        builder.UseSetting("Verification:ResendSeconds", "10");
        // A test that travels to a season would have its days' circulars made for every office;
        // the schedule is the server tests' (CircularScheduleTests), a browser test issues its own.
        builder.UseSetting("Circulars:Schedule", "false");
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(Codes);
            services.AddSingleton<TimeProvider>(Clock);
        });
    }

    /// <summary>The code the server sent to a number, once it has been sent.</summary>
    public async Task<string> CodeSentToAsync(string mobile)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            if (Codes.LatestTo(mobile) is { } sent) return sent.Code;
            if (DateTime.UtcNow > until) throw new TimeoutException($"no code was sent to {mobile}");
            await Task.Delay(50);
        }
    }

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
            throw new InvalidOperationException($"{Chromium} is missing: run ./test.sh, or `apt-get install chromium fonts-wqy-microhei`.");
        using (var client = CreateClient()) Address = client.BaseAddress!;
        var errors = await Services.GetRequiredService<AccountStore>().CreateAsync(AdminName, Password, Roles.Admin, null);
        Assert.Empty(errors);
        Directory.CreateDirectory(Screenshots);
        // An expectation waits for a state, it does not time the page (speed is measured in benchmarks):
        // Playwright's 5 s default failed a round's first question on a CI machine busy with other work.
        Assertions.SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>
    /// A browser context on this server: a phone (360×640, touch; <paramref name="phoneHeight"/> 560 is
    /// what WeChat's browser leaves of it) or a desktop.
    /// </summary>
    public Task<IBrowserContext> NewContextAsync(bool phone, int phoneHeight = 640) => Browser.NewContextAsync(new BrowserNewContextOptions
    {
        BaseURL = Address.ToString(),
        Locale = "zh-CN",
        TimezoneId = "Asia/Shanghai",
        ViewportSize = phone ? new ViewportSize { Width = 360, Height = phoneHeight } : new ViewportSize { Width = 1280, Height = 900 },
        IsMobile = phone,
        HasTouch = phone,
        DeviceScaleFactor = 1,
    });

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, $"{name}.png"), FullPage = true });

    /// <summary>The three screens a page state must work on (issue 14): WeChat's usable phone, a whole phone, a desktop.</summary>
    public static readonly (int Width, int Height)[] Screens = [(360, 560), (360, 640), (1366, 768)];

    /// <summary>
    /// One page state on each of <see cref="Screens"/>: a screenshot <c>{name}-{w}x{h}.png</c> and
    /// axe-core's check at each size (a layout that only breaks narrow fails here), then the page's
    /// own size again, so the test goes on where it was.
    /// </summary>
    public static async Task ScreensAsync(IPage page, string name)
    {
        var own = page.ViewportSize;
        var scrolled = await page.EvaluateAsync<double>("() => window.scrollY");
        foreach (var (width, height) in Screens)
        {
            await page.SetViewportSizeAsync(width, height);
            // From the top: a full-page shot of a scrolled page draws its sticky bars mid-page.
            // Two frames: the resize's layout and any size-dependent render have run.
            await page.EvaluateAsync("() => { window.scrollTo(0, 0); return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))); }");
            await ScreenshotAsync(page, $"{name}-{width}x{height}");
            await Axe.AssertAccessibleAsync(page, $"{name} at {width}x{height}");
        }
        if (own is not null) await page.SetViewportSizeAsync(own.Width, own.Height);
        await page.EvaluateAsync("y => window.scrollTo(0, y)", scrolled);
    }

    public static string NextMobile() => $"137{Environment.ProcessId % 1000:000}{Interlocked.Increment(ref _mobiles):00000}";

    public async Task<string> CreateStaffAsync(string name, string role, string? unit)
    {
        var errors = await Services.GetRequiredService<AccountStore>().CreateAsync(name, Password, role, unit);
        Assert.Empty(errors);
        return name;
    }

    /// <summary>Registers a player in a county and plays one whole round through the server's own services.</summary>
    public async Task<RoundResult> PlayRoundAsync(string county)
    {
        using var client = CreateClient();
        using var response = await client.PostAsJsonAsync("/api/participants/register",
            new { nickname = "邻居", mobile = NextMobile(), regionCode = county, track = "general" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var sent = (await response.Content.ReadFromJsonAsync<ParticipantsApi.VerificationSent>())!;
        using var verified = await client.PostAsJsonAsync("/api/participants/verify",
            new { sent.VerificationId, code = await Codes.CodeForAsync(sent.VerificationId) });
        Assert.True(verified.IsSuccessStatusCode, await verified.Content.ReadAsStringAsync());
        var registered = (await verified.Content.ReadFromJsonAsync<ParticipantsApi.Registered>())!;
        var rounds = Services.GetRequiredService<RoundService>();
        var id = registered.Participant.ParticipantId;
        var round = await rounds.StartAsync(id, new StartRoundRequest(CampaignId));
        for (var i = 0; i < round.Questions.Count; i++) await rounds.AnswerAsync(id, new AnswerRequest(round.RoundId, i, [0]));
        return await rounds.FinishAsync(id, new FinishRequest(round.RoundId));
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        _playwright?.Dispose();
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class SiteCollection : ICollectionFixture<QuizSite>
{
    public const string Name = "site";
}

public static class Repository
{
    /// <summary>The folder holding Quiz.sln, above the test's binaries.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Quiz.sln"))) return dir.FullName;
        throw new InvalidOperationException("Quiz.sln not found above " + AppContext.BaseDirectory);
    }
}
