using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Quiz.Server.Admin;

namespace Quiz.Server.Tests.Infrastructure;

/// <summary>
/// The server in memory over its own empty store in a temporary folder, with a fake clock. Each test
/// class gets its own, so tests never see each other's data. With QUIZ_TEST_STORE=postgres the
/// store is a database of its own on the run's PostgreSQL instead (the same one for the same data
/// folder, so a test that restarts the server on its folder finds its data again). With
/// QUIZ_TEST_BUS=rabbitmq the bus is a virtual host of its own on the run's RabbitMQ, likewise.
/// </summary>
public sealed class QuizApplication : WebApplicationFactory<Program>
{
    public const string AdminKeyValue = "test-admin-key";

    public string DataDir { get; init; } = Path.Combine(Path.GetTempPath(), "quiz-tests", Guid.NewGuid().ToString("N"));
    /// <summary>The server's clock: 12 June 2024, 10:00 China Standard Time, unless the test starts it elsewhere.</summary>
    public FakeTimeProvider Clock { get; }

    /// <summary>What the server gets as its clock; the fake one unless a test wraps it (timers that fire early, say).</summary>
    public Func<FakeTimeProvider, TimeProvider> ServerClock { get; init; } = clock => clock;

    /// <summary>The server's log, where the verification codes of the embedded run are written.</summary>
    public VerificationLog Codes { get; } = new();
    private readonly Dictionary<string, string?> _settings = new();

    /// <param name="kestrel">Serve on a real loopback socket (SignalR clients, raw HTTP) instead of in memory.</param>
    /// <param name="now">Where the fake clock starts (a fake clock cannot go back, so a 2023 season needs its own).</param>
    public QuizApplication(bool kestrel = false, DateTimeOffset? now = null)
    {
        Clock = new FakeTimeProvider(now ?? new DateTimeOffset(2024, 6, 12, 2, 0, 0, TimeSpan.Zero));
        if (kestrel) UseKestrel(0);
    }

    /// <summary>The server's base address (a real one when served by Kestrel).</summary>
    public Uri ServerAddress
    {
        get
        {
            using var client = CreateClient();
            return client.BaseAddress!;
        }
    }

    public QuizApplication With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Storage:DataDir", DataDir);
        builder.UseSetting("Admin:ApiKey", AdminKeyValue);
        builder.UseSetting("Seed:Enabled", "false");
        builder.UseSetting("RateLimits:RegistrationsPerMinutePerAddress", "100000");
        builder.UseSetting("RateLimits:RoundStartsPerMinutePerAddress", "100000");
        builder.UseSetting("RateLimits:RoundStartsPerMinutePerParticipant", "100000");
        // Off unless a test turns it on (.With("Circulars:Schedule", "true")): tests that move the
        // clock past 20:00 would otherwise have every office's circulars made beside them.
        builder.UseSetting("Circulars:Schedule", "false");
        if (RabbitMqServerFixture.TestBusIsRabbitMq)
        {
            // Before the test's own settings: a test of the bus itself names its transport.
            builder.UseSetting("Bus:Transport", "RabbitMq");
            builder.UseSetting("Bus:RabbitMq", RabbitMqServerFixture.Shared.UriFor(_settings.GetValueOrDefault("Storage:DataDir") ?? DataDir));
        }
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        // A test that names its own PostgreSQL (several nodes on one store) keeps it.
        if (PostgresServerFixture.TestStoreIsPostgres && !_settings.ContainsKey("Storage:ConnectionString"))
        {
            builder.UseSetting("Storage:Provider", "Postgres");
            builder.UseSetting("Storage:ConnectionString", PostgresServerFixture.Shared.DatabaseFor(_settings.GetValueOrDefault("Storage:DataDir") ?? DataDir));
            if (!_settings.ContainsKey("Participants:Secret")) builder.UseSetting("Participants:Secret", PostgresServerFixture.ParticipantSecret);
        }
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton(ServerClock(Clock));
            services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(Codes);
        });
    }

    public HttpClient CreateAdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add(AdminKey.Header, AdminKeyValue);
        return client;
    }

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>
    /// Waits until the server's bus is connected and every receive endpoint has bound its queue.
    /// The host does not wait for its bus at start-up (a broker may be away), and on RabbitMQ an
    /// event published before a projection's queue is bound reaches no queue at all: a test that
    /// publishes to the bus itself, rather than finishing rounds (which the catch-up covers), waits first.
    /// </summary>
    public async Task BusReadyAsync()
    {
        var bus = Service<MassTransit.IBusControl>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (bus.CheckHealth().Status != MassTransit.BusHealthStatus.Healthy && DateTime.UtcNow < deadline) await Task.Delay(50);
        var health = bus.CheckHealth();
        Assert.True(health.Status == MassTransit.BusHealthStatus.Healthy, $"the bus is {health.Status}: {health.Description}");
    }

    /// <summary>Posts files as a multipart upload to the question import endpoint.</summary>
    public async Task<HttpResponseMessage> UploadQuestionsAsync(bool dryRun = false, params (string Name, byte[] Content)[] files)
    {
        using var client = CreateAdminClient();
        using var form = new MultipartFormDataContent();
        foreach (var (name, content) in files)
        {
            var part = new ByteArrayContent(content);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "files", name);
        }
        return await client.PostAsync($"/api/admin/questions/import?dryRun={dryRun.ToString().ToLowerInvariant()}", form);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }
}
