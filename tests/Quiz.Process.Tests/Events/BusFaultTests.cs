using System.Diagnostics;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Events;

/// <summary>
/// Rule 8 for the projections under faults, on RabbitMQ with the server as a process and players
/// playing through the hub: the broker stopped for 10 s mid-run, and the node SIGKILLed right after
/// commits. Finishes are acknowledged throughout, and afterwards both projections equal a
/// recomputation from the store: no event lost, none counted twice.
/// </summary>
public sealed class BusFaultTests : IAsyncLifetime
{
    private readonly RabbitMqServerFixture _broker = new();
    private readonly ProcessWorld _world = new();

    public Task InitializeAsync() => _broker.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        _world.Dispose();
    }

    private Task<ServerProcess> StartServerAsync() => _world.StartServerAsync(
        "--Bus:Transport=RabbitMq", $"--Bus:RabbitMq={_broker.Uri}", "--Bus:CatchUpInterval=00:00:01");

    private async Task<List<string>> RegisterAsync(ServerProcess server, int count, int first = 0)
    {
        using var http = new HttpClient { BaseAddress = server.Address };
        var tokens = new List<string>();
        for (var i = first; i < first + count; i++)
            tokens.Add(await ProcessWorld.RegisterAsync(server, http, i, i % 2 == 0 ? PlayWorld.County : PlayWorld.OtherCounty, i % 3 == 0 ? null : PlayWorld.Bank));
        return tokens;
    }

    /// <summary>Polls until the projections equal a recomputation from the store, then asserts it.</summary>
    private async Task ProjectionsMatchTheStoreAsync(ServerProcess server, int atLeast)
    {
        var waited = Stopwatch.StartNew();
        List<string> differences;
        long rounds;
        do
        {
            await Task.Delay(250);
            await using var connection = _world.OpenStore();
            await connection.OpenAsync();
            rounds = await ProjectionCheck.ResultCountAsync(connection);
            differences = await ProjectionCheck.DifferencesAsync(connection);
        }
        while (differences.Count > 0 && waited.Elapsed < TimeSpan.FromSeconds(60));
        Assert.True(differences.Count == 0, $"{differences.Count} differences: {string.Join("; ", differences.Take(10))}\n{string.Join("\n", server.Output.TakeLast(20))}");
        Assert.True(rounds >= atLeast, $"only {rounds} rounds in the store");
    }

    [Fact]
    public async Task NoEventIsLostOrCountedTwiceWhenTheBrokerStopsForTenSeconds()
    {
        await using var server = await StartServerAsync();
        // 24 players of 100 attempts a day: enough rounds for the broker's 10 s away.
        await using var burst = new PlayerBurst(server, await RegisterAsync(server, 24));
        await burst.StartAsync();
        await burst.UntilAsync(100);

        await _broker.StopAsync();
        var stoppedAt = DateTime.UtcNow;
        var before = burst.Acknowledged.Count;
        await Task.Delay(TimeSpan.FromSeconds(10));
        var downFor = burst.Acknowledged.Count - before;
        // Finishes do not wait for the broker, so these players would use up their attempts while it
        // starts again: they stop here, and new players play a hundred rounds once it is back.
        await burst.StopAsync();
        await _broker.StartAsync();
        var startedAt = DateTime.UtcNow;

        // Finishes go on while the broker is away: the store has them; the wait for the broker is bounded.
        var whileDown = burst.Finishes.Where(f => f.At > stoppedAt.AddSeconds(1) && f.At < startedAt).ToList();
        var slowest = string.Join(", ", whileDown.Select(f => f.Ms).OrderDescending().Take(5).Select(ms => $"{ms:F0} ms"));
        Assert.True(downFor >= 20, $"only {downFor} rounds acknowledged in the 10 s the broker was away (slowest finishes: {slowest})");
        Assert.True(whileDown.Max(f => f.Ms) < 2000, $"slowest finishes while the broker was away: {slowest}, of {whileDown.Count}");

        await using var after = new PlayerBurst(server, await RegisterAsync(server, 24, first: 24));
        await after.StartAsync();
        await after.UntilAsync(100);
        await after.StopAsync();
        await ProjectionsMatchTheStoreAsync(server, burst.Acknowledged.Count + after.Acknowledged.Count);

        // The node still stops when asked (SIGTERM, as a rolling deploy asks it) after the broker came
        // back under it: an in-process bus of MassTransit 8.5 was once seen to hang in its stop after a
        // bounce (BusContract.DisposeAsync). StopAsync throws unless the process exits within 30 s.
        await server.StopAsync();
        Assert.Equal(0, server.ExitCode);
    }

    [Fact]
    public async Task ProjectionsCatchUpAfterTheNodeIsKilledRightAfterCommits()
    {
        List<string> tokens;
        int acknowledged;
        await using (var server = await StartServerAsync())
        {
            tokens = await RegisterAsync(server, 12);
            await using var burst = new PlayerBurst(server, tokens);
            await burst.StartAsync();
            await burst.UntilAsync(150);
            server.Kill();
            acknowledged = burst.Acknowledged.Count;
        }

        await using (var server = await StartServerAsync())
            await ProjectionsMatchTheStoreAsync(server, acknowledged);
    }
}
