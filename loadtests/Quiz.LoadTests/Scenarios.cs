using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;

namespace Quiz.LoadTests;

/// <summary>A measured phase of a run: its scenario's statistics and when it ran.</summary>
public sealed record Phase(string Name, string Description, ScenarioRun Run, DateTimeOffset From, DateTimeOffset To)
{
    public Dictionary<string, double> Extra { get; } = [];
}

/// <summary>A participant with an open connection to /hubs/play.</summary>
public sealed record Player(Participant Participant, IHubClient Hub);

/// <summary>
/// The scenarios of issue 7 built from the runner's pieces: the opening burst, the sustained
/// window, the soak, and the baseline (play at saturation against echo at the same connections
/// and calls in flight). Each run is a list of phases; the report reads them.
/// </summary>
public sealed class Scenarios(Options options, QuizServer server, CancellationToken stop)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    private readonly List<Phase> _phases = [];
    private IReadOnlyList<string> _regions = [];
    private readonly long _mobileBase = Random.Shared.NextInt64(0, 90_000_000);
    private long _mobiles;

    public IReadOnlyList<Phase> Phases => _phases;
    /// <summary>Open hub connections now and at most (play and echo), as this client counts them.</summary>
    public long OpenConnections => Interlocked.Read(ref _open);
    public long PeakConnections => Interlocked.Read(ref _peak);
    public long LostConnections => Interlocked.Read(ref _lost);
    public ConcurrentDictionary<string, long> LostByKind { get; } = new();
    public string EchoMethod { get; private set; } = "Echo on /hubs/echo";
    /// <summary>The phase whose answers the summary reports.</summary>
    public Phase? Main { get; private set; }
    public Phase? Echo { get; private set; }
    public string? MetricsAtPeak { get; private set; }
    private long _open, _peak, _lost;
    /// <summary>Connections this client is closing on purpose: their Closed event is not a loss.</summary>
    private readonly ConcurrentDictionary<IHubClient, bool> _closing = new();
    /// <summary>Open raw connections, for their pings.</summary>
    private readonly ConcurrentDictionary<RawHub, bool> _raw = new();

    public async Task RunAsync()
    {
        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var pinging = RawHub.PingIdleAsync(() => _raw.Keys, quiet.Token);
        try { await PlayAndEchoAsync(); }
        finally
        {
            await quiet.CancelAsync();
            await pinging;
        }
    }

    private async Task PlayAndEchoAsync()
    {
        _regions = await server.LeafRegionsAsync(200, stop);
        if (options.Campaign == Options.LoadCampaign) await server.PutLoadCampaignAsync(options.Campaign, options.AdminKey!, stop);

        List<Player> players;
        switch (options.Scenario)
        {
            case "burst":
            case "smoke":
                players = await BurstAsync();
                break;
            case "sustained":
            case "soak":
                players = await WarmupAsync();
                await PacedRoundsAsync(players);
                break;
            case "baseline":
                players = await WarmupAsync();
                await SaturationAsync(players);
                break;
            default:
                throw new ArgumentException(options.Scenario);
        }
        MetricsAtPeak = await server.MetricsAsync(options.AdminKey, stop);
        var tokens = players.Select(p => p.Participant.Token).ToList();
        await CloseAsync(players.Select(p => p.Hub));
        if (options.EchoSeconds > 0) await EchoAsync(tokens);
    }

    // 1. The opening burst: every participant registers, connects, starts, answers each question
    //    after the think time and finishes, all arriving evenly within the ramp. Connections stay
    //    open until every round is over, so the peak is the number held.
    private async Task<List<Player>> BurstAsync()
    {
        var registered = options.Preregistered ? new ConcurrentQueue<Participant>((await WarmupAsync(connect: false)).Select(p => p.Participant)) : null;
        var players = new ConcurrentBag<Player>();
        long lastStart = 0, lastFinish = 0, origin = Stopwatch.GetTimestamp();
        const int ticksPerSecond = 10;
        var perTick = (int)Math.Ceiling(options.Participants / (options.RampSeconds * ticksPerSecond));
        var ticks = (int)Math.Ceiling(options.Participants / (double)perTick);
        var scenario = Scenario.Create("opening-burst", async context =>
            {
                Participant? participant = null;
                if (registered is not null && !registered.TryDequeue(out participant)) return Response.Fail("scenario:no-registered-participant");
                var player = await JoinAsync(context, participant);
                players.Add(player);
                var round = await StartAsync(context, player);
                ScenarioRunner.InterlockedMax(ref lastStart, Stopwatch.GetTimestamp());
                await PlayAsync(context, player, round, paced: false);
                ScenarioRunner.InterlockedMax(ref lastFinish, Stopwatch.GetTimestamp());
                return Response.Ok();
            })
            .WithLoadSimulations(Simulation.Inject(perTick, TimeSpan.FromSeconds(1.0 / ticksPerSecond), TimeSpan.FromSeconds(ticks / (double)ticksPerSecond)))
            .WithDrain(TimeSpan.FromSeconds(150));
        var phase = await MeasureAsync(scenario, $"{options.Participants} participants arrive within {options.RampSeconds} s; each {(registered is null ? "registers, " : "(registered beforehand) ")}connects, starts a round of {options.Campaign}, answers every question after {options.ThinkMs} ms and finishes");
        phase.Extra["all_started_within_s"] = lastStart == 0 ? 0 : Math.Round(Stopwatch.GetElapsedTime(origin, lastStart).TotalSeconds, 2);
        phase.Extra["all_finished_within_s"] = lastFinish == 0 ? 0 : Math.Round(Stopwatch.GetElapsedTime(origin, lastFinish).TotalSeconds, 2);
        phase.Extra["peak_connections"] = PeakConnections;
        Main = phase;
        return [.. players];
    }

    // Sustained, soak and baseline need their connections first (and a burst with
    // --preregistered its registrations): a closed loop of --warmup-concurrency virtual users
    // registers (and connects) everyone as fast as the server takes it.
    private async Task<List<Player>> WarmupAsync(bool connect = true)
    {
        var players = new ConcurrentBag<Player>();
        var copies = Math.Min(options.WarmupConcurrency, options.Participants);
        var scenario = Scenario.Create("warm-up", async context =>
            {
                players.Add(connect ? await JoinAsync(context) : new Player(await RegisterAsync(context), null!));
                return Response.Ok();
            })
            .WithLoadSimulations(Simulation.IterationsForConstant(copies, options.Participants, TimeSpan.FromSeconds(900)))
            .WithDrain(TimeSpan.FromSeconds(60));
        await MeasureAsync(scenario, $"{options.Participants} participants register{(connect ? " and connect" : "")}, {copies} at a time");
        return [.. players];
    }

    // 2. Sustained window and 3. soak: rounds arrive at a constant rate; each takes an idle
    //    connected participant, who answers on a fixed schedule (question k at (k + ½) think
    //    times after the start), so the answer rate does not sag when replies slow down.
    private async Task PacedRoundsAsync(List<Player> players)
    {
        var idle = new ConcurrentQueue<Player>(players);
        var roundSeconds = options.QuestionsPerRound * options.ThinkMs / 1000.0;
        var rate = options.Rate > 0 ? options.Rate
            : options.Scenario == "soak" ? players.Count / options.RoundEverySeconds
            : players.Count / Math.Max(roundSeconds, 0.1);
        var perTick = Math.Max(1, (int)Math.Round(rate / 10));
        var scenario = Scenario.Create(options.Scenario, async context =>
            {
                if (!idle.TryDequeue(out var player)) return Response.Fail("dropped:no-idle-participant");
                try
                {
                    var round = await StartAsync(context, player);
                    await PlayAsync(context, player, round, paced: true);
                    return Response.Ok();
                }
                finally { idle.Enqueue(player); }
            })
            .WithLoadSimulations(Simulation.Inject(perTick, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(options.DurationSeconds)))
            .WithDrain(TimeSpan.FromSeconds(roundSeconds + 60));
        var phase = await MeasureAsync(scenario, options.Scenario == "soak"
            ? $"{players.Count} connections held for {options.DurationSeconds} s; rounds arrive at {perTick * 10} a second (each participant about every {options.RoundEverySeconds} s), answers every {options.ThinkMs} ms"
            : $"{players.Count} connected participants; rounds arrive at {perTick * 10} a second for {options.DurationSeconds} s, answers every {options.ThinkMs} ms (offered {perTick * 10 * options.QuestionsPerRound} answers/s)");
        phase.Extra["offered_rounds_per_s"] = perTick * 10;
        phase.Extra["offered_answers_per_s"] = perTick * 10 * options.QuestionsPerRound;
        phase.Extra["connections"] = players.Count;
        Main = phase;
    }

    // 4a. The baseline's play half: a closed loop of K virtual users with no think time, each
    //     playing whole rounds on its own share of the connections (copy c: c, c+K, c+2K...).
    private async Task SaturationAsync(List<Player> players)
    {
        var k = Math.Min(options.InFlight, players.Count);
        var turns = new long[k];
        var scenario = Scenario.Create("saturation", async context =>
            {
                var copy = context.CopyNumber;
                var share = (players.Count - copy + k - 1) / k;
                var player = players[copy + k * (int)(turns[copy]++ % share)];
                var round = await StartAsync(context, player);
                await PlayAsync(context, player, round, paced: false);
                return Response.Ok();
            })
            .WithLoadSimulations(Simulation.KeepConstant(k, TimeSpan.FromSeconds(options.DurationSeconds)))
            .WithDrain(TimeSpan.FromSeconds(60));
        var phase = await MeasureAsync(scenario, $"{k} virtual users play whole rounds back to back with no think time over {players.Count} connections for {options.DurationSeconds} s");
        phase.Extra["connections"] = players.Count;
        phase.Extra["in_flight"] = k;
        Main = phase;
    }

    // 4b. Echo: as many connections as the play phase held, the same calls in flight, a trivial
    //     call on the same server. The ratio of answers/s to these calls/s is the summary's echo_ratio.
    private async Task EchoAsync(List<string> tokens)
    {
        var useEcho = await server.HasEchoHubAsync(stop);
        if (!useEcho) EchoMethod = "CurrentRound on /hubs/play (the server has no /hubs/echo)";
        var count = Math.Max(1, tokens.Count);
        var connections = new IHubClient?[count];
        var opened = 0;
        var open = Scenario.Create("echo-connect", async context =>
            {
                var i = (int)context.InvocationNumber - 1;
                if (i >= count) return Response.Ok();
                var token = tokens.Count > 0 ? tokens[i] : null;
                connections[i] = await ConnectAsync(context, useEcho ? "/hubs/echo" : "/hubs/play", token, "echo-connect");
                Interlocked.Increment(ref opened);
                return Response.Ok();
            })
            .WithLoadSimulations(Simulation.IterationsForConstant(Math.Min(100, count), count, TimeSpan.FromSeconds(120)));
        await MeasureAsync(open, $"{count} connections to {(useEcho ? "/hubs/echo" : "/hubs/play")}, 100 at a time");

        var live = connections.Where(c => c is not null).Cast<IHubClient>().ToArray();
        var inFlight = Math.Min(options.EchoInFlight, Math.Max(1, live.Length * 4));
        var turns = new long[inFlight];
        var echo = Scenario.Create("echo", async context =>
            {
                if (live.Length == 0) return Response.Fail("scenario:no-echo-connection");
                var copy = context.CopyNumber;
                var hub = live[(copy + inFlight * turns[copy]++) % live.Length];
                await Step.Run("echo", context, () => useEcho
                    ? Bounded(context, ct => hub.InvokeAsync<string>("Echo", "ping", ct))
                    : Bounded(context, ct => hub.InvokeAsync<RoundView?>("CurrentRound", options.Campaign, ct)));
                return Response.Ok();
            })
            .WithLoadSimulations(Simulation.KeepConstant(inFlight, TimeSpan.FromSeconds(options.EchoSeconds)))
            .WithDrain(TimeSpan.FromSeconds(30));
        Echo = await MeasureAsync(echo, $"{inFlight} calls in flight over {live.Length} connections for {options.EchoSeconds} s: {EchoMethod}");
        Echo.Extra["connections"] = live.Length;
        Echo.Extra["in_flight"] = inFlight;
        await CloseAsync(live);
    }

    private async Task<Phase> MeasureAsync(Scenario scenario, string description)
    {
        var from = DateTimeOffset.UtcNow;
        Console.Error.WriteLine($"[{from:HH:mm:ss}] {scenario.Name}: {description}");
        var run = await ScenarioRunner.RunAsync(scenario, stop);
        var phase = new Phase(scenario.Name, description, run, from, DateTimeOffset.UtcNow);
        _phases.Add(phase);
        Console.Error.WriteLine($"[{phase.To:HH:mm:ss}] {scenario.Name}: {run.Elapsed.TotalSeconds:F1} s, {run.Stats.Errors} errors, peak {PeakConnections} connections");
        return phase;
    }

    private async Task<Player> JoinAsync(ScenarioContext context, Participant? registered = null)
    {
        var participant = registered ?? await RegisterAsync(context);
        var hub = await ConnectAsync(context, "/hubs/play", participant.Token, "connect");
        return new Player(participant, hub);
    }

    private Task<Participant> RegisterAsync(ScenarioContext context)
    {
        var n = Interlocked.Increment(ref _mobiles);
        var mobile = $"139{(_mobileBase + n) % 100_000_000:D8}";
        var registration = new Registration($"压测{n}", mobile, _regions[(int)(n % _regions.Count)], null, Tracks[n % Tracks.Length]);
        // Timed whole ("register") and by part, so a slow registration shows where it waits: the
        // form's request, the code's way through the server's log, or the code's proof.
        return Step.Run("register", context, () => Bounded(context, async ct =>
        {
            var http = server.Source();
            var sent = await Step.Run("register: send code", context, () => server.SendCodeAsync(http, registration, ct));
            var code = await Step.Run("register: read code", context, () => server.ReadCodeAsync(sent, ct));
            return await Step.Run("register: verify", context, () => server.VerifyAsync(http, sent, code, ct));
        }));
    }

    private static readonly string[] Tracks = ["general", "elderly", "student", "workplace", "countryside"];

    private async Task<IHubClient> ConnectAsync(ScenarioContext context, string path, string? token, string step)
    {
        IHubClient hub;
        if (options.Client == "raw")
            hub = await Step.Run(step, context, () => Bounded(context, ct => server.RawHubAsync(path, token, ct)));
        else
        {
            var connection = new HubConnectionClient(server.Connection(path, token));
            try
            {
                await Step.Run(step, context, () => Bounded(context, connection.StartAsync));
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
            hub = connection;
        }
        hub.Closed += error =>
        {
            if (hub is RawHub raw) _raw.TryRemove(raw, out _);
            if (error is not null || !_closing.ContainsKey(hub))
            {
                Interlocked.Increment(ref _lost);
                LostByKind.AddOrUpdate(error is null ? "closed-by-server" : Errors.Kind(error, CancellationToken.None) + ": " + error.Message[..Math.Min(80, error.Message.Length)], 1, (_, n) => n + 1);
            }
            Interlocked.Decrement(ref _open);
            return Task.CompletedTask;
        };
        if (hub is RawHub opened) _raw[opened] = true;
        ScenarioRunner.InterlockedMax(ref _peak, Interlocked.Increment(ref _open));
        return hub;
    }

    private Task<RoundView> StartAsync(ScenarioContext context, Player player) =>
        Step.Run("start", context, () => Bounded(context, ct => player.Hub.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(options.Campaign), ct)));

    /// <summary>
    /// Answers every question (after the think time, or on the paced schedule) and finishes: with
    /// the last answer (<c>finish: true</c>, as the phone page does), or with a Finish call after it
    /// (--finish-call). Every answer call is a step "answer", the finishing one included; the
    /// finishing ones are also timed apart as "answer+finish" (their failures count once, in "answer").
    /// </summary>
    private async Task PlayAsync(ScenarioContext context, Player player, RoundView round, bool paced)
    {
        var started = Stopwatch.GetTimestamp();
        for (var k = 0; k < round.Questions.Count; k++)
        {
            var question = round.Questions[k];
            var wait = paced
                ? TimeSpan.FromMilliseconds(options.ThinkMs * (k + 0.5)) - Stopwatch.GetElapsedTime(started)
                : TimeSpan.FromMilliseconds(options.ThinkMs);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, context.CancellationToken);
            var choice = question.Options.Count == 0 ? 0 : context.Random.Next(question.Options.Count);
            var finishing = !options.FinishCall && k == round.Questions.Count - 1;
            var sent = Stopwatch.GetTimestamp();
            var answered = await Step.Run("answer", context, () => Bounded(context, ct => player.Hub.InvokeAsync<AnswerResult>(
                "Answer", new AnswerRequest(round.RoundId, question.Position, [choice], finishing), ct)));
            if (!finishing) continue;
            context.Run.Stats.Step("answer+finish").Ok(sent, Stopwatch.GetTimestamp());
            if (answered.Result is not { } finished) throw new InvalidOperationException($"round {round.RoundId}: the finishing answer came back without the result");
            if (finished.RankPending) context.Run.Stats.Step("finish:rank-pending").Fail(Stopwatch.GetTimestamp(), Stopwatch.GetTimestamp(), "rank-pending");
        }
        if (!options.FinishCall) return;
        var result = await Step.Run("finish", context, () => Bounded(context, ct => player.Hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId), ct)));
        // Safe but degraded: the round is stored, the ranking was not reached. Counted as an error of its own.
        if (result.RankPending) context.Run.Stats.Step("finish:rank-pending").Fail(Stopwatch.GetTimestamp(), Stopwatch.GetTimestamp(), "rank-pending");
    }

    /// <summary>One request, bounded by <see cref="CallTimeout"/> and by the end of the run.</summary>
    private static async Task<T> Bounded<T>(ScenarioContext context, Func<CancellationToken, Task<T>> call)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        cts.CancelAfter(CallTimeout);
        return await call(cts.Token);
    }

    private static async Task Bounded(ScenarioContext context, Func<CancellationToken, Task> call) =>
        await Bounded(context, async ct => { await call(ct); return true; });

    /// <summary>Closes connections 64 at a time, within two minutes at most.</summary>
    private async Task CloseAsync(IEnumerable<IHubClient> hubs)
    {
        var all = hubs.ToList();
        foreach (var hub in all) _closing[hub] = true;
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await Parallel.ForEachAsync(all, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = limit.Token },
                async (hub, _) => await hub.DisposeAsync());
        }
        catch (OperationCanceledException) { Console.Error.WriteLine("closing connections took over 2 minutes; left to the process exit"); }
        finally
        {
            // Closed events may still be on their way: wait a moment before forgetting these connections.
            await Task.Delay(500);
            foreach (var hub in all) _closing.TryRemove(hub, out _);
        }
    }
}
