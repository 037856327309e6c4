using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Server.Play;

namespace Quiz.Server.Tests.Infrastructure;

/// <summary>
/// Players on a server process, each playing full rounds over the hub until stopped; what they were
/// told is kept, with when and how long each finish took. A pace, when given, is each player's
/// rest between rounds.
/// </summary>
public sealed class PlayerBurst(ServerProcess server, IReadOnlyList<string> tokens, TimeSpan pace = default) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<HubConnection> _hubs = [];
    private readonly List<Task> _loops = [];
    public ConcurrentBag<(string Token, RoundResult Result)> Acknowledged { get; } = [];
    public ConcurrentBag<(DateTime At, double Ms, bool Pending)> Finishes { get; } = [];
    public ConcurrentBag<Exception> Errors { get; } = [];
    private int _outOfAttempts;

    public async Task StartAsync()
    {
        foreach (var token in tokens)
        {
            var hub = new HubConnectionBuilder()
                .WithUrl(new Uri(server.Address, "/hubs/play"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
                .Build();
            await hub.StartAsync();
            _hubs.Add(hub);
        }
        _stop.CancelAfter(TimeSpan.FromSeconds(120)); // bounded, whatever happens
        for (var i = 0; i < _hubs.Count; i++)
        {
            var (hub, token) = (_hubs[i], tokens[i]);
            _loops.Add(Task.Run(() => PlayAsync(hub, token)));
        }
    }

    private async Task PlayAsync(HubConnection hub, string token)
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var round = await hub.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(PlayWorld.CampaignId), _stop.Token);
                for (var q = 0; q < round.Questions.Count; q++)
                    await hub.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, q, [q % 2]), _stop.Token);
                var started = Stopwatch.GetTimestamp();
                var result = await hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId), _stop.Token);
                Finishes.Add((DateTime.UtcNow, Stopwatch.GetElapsedTime(started).TotalMilliseconds, result.RankPending));
                Acknowledged.Add((token, result));
                if (pace > TimeSpan.Zero) await Task.Delay(pace, _stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
        // A player who used up the day's attempts is done, as a person would be: not an error.
        catch (Microsoft.AspNetCore.SignalR.HubException e) when (e.Message.Contains(PlayErrors.NoAttemptsLeft + ":"))
        {
            Interlocked.Increment(ref _outOfAttempts);
        }
        catch (Exception e) { Errors.Add(e); }
    }

    /// <summary>Waits until this many rounds in all were acknowledged, failing on any error.</summary>
    public async Task UntilAsync(int acknowledged)
    {
        var deadline = Stopwatch.StartNew();
        while (Acknowledged.Count < acknowledged && Errors.IsEmpty && Volatile.Read(ref _outOfAttempts) < tokens.Count
               && deadline.Elapsed < TimeSpan.FromSeconds(60))
            await Task.Delay(20);
        Assert.True(Errors.IsEmpty, $"{Errors.FirstOrDefault()}\n{string.Join("\n", server.Output.TakeLast(30))}");
        Assert.True(Acknowledged.Count >= acknowledged,
            $"only {Acknowledged.Count} rounds acknowledged; {_outOfAttempts} of {tokens.Count} players had used up the day's attempts");
    }

    public async Task StopAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(Errors.IsEmpty, $"{Errors.FirstOrDefault()}\n{string.Join("\n", server.Output.TakeLast(30))}");
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        foreach (var hub in _hubs) await hub.DisposeAsync();
    }
}
