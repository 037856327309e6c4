using System.Collections.Concurrent;
using System.Diagnostics;

namespace Quiz.LoadTests;

// A small scenario runner shaped like NBomber's model (Scenario.Create, Step.Run, Response,
// Simulation.Inject / RampingInject / KeepConstant / IterationsForConstant / Pause), so that
// NBomber can replace it once the registry serves it: the scenarios in Scenarios.cs would keep
// their shape and only the using lines and the report would change.

/// <summary>The outcome of an iteration or a step, as NBomber's Response.</summary>
public readonly record struct Response(bool IsError, string? Kind)
{
    public static Response Ok() => new(false, null);
    public static Response Fail(string kind) => new(true, kind);
}

/// <summary>Thrown by <see cref="Step.Run{T}"/> when a step failed: the iteration stops, the error is already counted.</summary>
public sealed class StepFailedException(string step, string kind) : Exception($"{step}: {kind}")
{
    public string Kind { get; } = kind;
}

/// <summary>What an iteration knows: which copy (closed model) or which invocation, and when to stop.</summary>
public sealed class ScenarioContext(ScenarioRun run, long invocation, int copy, CancellationToken token)
{
    public ScenarioRun Run { get; } = run;
    public long InvocationNumber { get; } = invocation;
    /// <summary>The virtual user in a closed model (KeepConstant); -1 for injected iterations.</summary>
    public int CopyNumber { get; } = copy;
    public CancellationToken CancellationToken { get; } = token;
    public Random Random => System.Random.Shared;
}

public static class Step
{
    /// <summary>Times one request, records it under <paramref name="name"/>, and turns a failure into its error kind.</summary>
    public static async Task<T> Run<T>(string name, ScenarioContext context, Func<Task<T>> action)
    {
        var stats = context.Run.Stats.Step(name);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = await action();
            stats.Ok(started, Stopwatch.GetTimestamp());
            return result;
        }
        catch (Exception e) when (e is not StepFailedException)
        {
            var kind = Errors.Kind(e, context.CancellationToken);
            stats.Fail(started, Stopwatch.GetTimestamp(), kind);
            throw new StepFailedException(name, kind);
        }
    }

    public static async Task Run(string name, ScenarioContext context, Func<Task> action) =>
        await Run(name, context, async () => { await action(); return true; });
}

/// <summary>A load simulation: how iterations are started over time.</summary>
public abstract record LoadSimulation(TimeSpan During)
{
    /// <summary>The most iterations it can start: every loop of the runner is bounded by it.</summary>
    public abstract long MaxIterations { get; }
}

/// <summary>Open model: <c>Rate</c> iterations every <c>Interval</c>, ramping linearly from the rate before it when <c>Ramp</c>.</summary>
public sealed record InjectSimulation(int Rate, TimeSpan Interval, TimeSpan During, bool Ramp) : LoadSimulation(During)
{
    public override long MaxIterations => (long)Math.Ceiling(During / Interval) * Rate + Rate;
}

/// <summary>Closed model: <c>Copies</c> virtual users loop until <c>During</c> ends or <c>Iterations</c> are done.</summary>
public sealed record KeepConstantSimulation(int Copies, TimeSpan During, long Iterations) : LoadSimulation(During)
{
    public override long MaxIterations => Iterations;
}

public sealed record PauseSimulation(TimeSpan During) : LoadSimulation(During)
{
    public override long MaxIterations => 0;
}

public static class Simulation
{
    public static LoadSimulation Inject(int rate, TimeSpan interval, TimeSpan during) => new InjectSimulation(rate, interval, during, false);
    public static LoadSimulation RampingInject(int rate, TimeSpan interval, TimeSpan during) => new InjectSimulation(rate, interval, during, true);
    public static LoadSimulation KeepConstant(int copies, TimeSpan during) => new KeepConstantSimulation(copies, during, long.MaxValue);
    public static LoadSimulation IterationsForConstant(int copies, long iterations, TimeSpan limit) => new KeepConstantSimulation(copies, limit, iterations);
    public static LoadSimulation Pause(TimeSpan during) => new PauseSimulation(during);
}

public sealed record Scenario(string Name, Func<ScenarioContext, Task<Response>> Body)
{
    public IReadOnlyList<LoadSimulation> Simulations { get; init; } = [];
    /// <summary>After the simulations end, how long iterations still running may take before they are cancelled.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Injected iterations beyond this many at once are dropped and counted (the generator's own bound).</summary>
    public int MaxInFlight { get; init; } = 50_000;

    public static Scenario Create(string name, Func<ScenarioContext, Task<Response>> body) => new(name, body);
    public Scenario WithLoadSimulations(params LoadSimulation[] simulations) => this with { Simulations = simulations };
    public Scenario WithDrain(TimeSpan drain) => this with { Drain = drain };
    public Scenario WithMaxInFlight(int max) => this with { MaxInFlight = max };
}

/// <summary>One scenario being run: its statistics and its in-flight count.</summary>
public sealed class ScenarioRun(Scenario scenario)
{
    public Scenario Scenario { get; } = scenario;
    public StatsBook Stats { get; } = new();
    public long Started;
    public long InFlight;
    public long PeakInFlight;
    public TimeSpan Elapsed { get; internal set; }
}

public static class ScenarioRunner
{
    /// <summary>Runs the scenario's simulations one after the other, then waits (bounded) for the iterations still running.</summary>
    public static async Task<ScenarioRun> RunAsync(Scenario scenario, CancellationToken stop)
    {
        var run = new ScenarioRun(scenario);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var running = new ConcurrentDictionary<long, Task>();
        var clock = Stopwatch.StartNew();
        var previousRate = 0;

        foreach (var simulation in scenario.Simulations)
        {
            if (stop.IsCancellationRequested) break;
            switch (simulation)
            {
                case InjectSimulation inject:
                    await InjectAsync(run, inject, previousRate, running, cancel.Token, stop);
                    previousRate = inject.Rate;
                    break;
                case KeepConstantSimulation constant:
                    await KeepConstantAsync(run, constant, cancel.Token, stop);
                    previousRate = 0;
                    break;
                case PauseSimulation pause:
                    await Delay(pause.During, stop);
                    break;
            }
        }

        var drained = Task.WhenAll(running.Values);
        if (await Task.WhenAny(drained, Task.Delay(scenario.Drain, stop).ContinueWith(_ => { })) != drained)
        {
            cancel.Cancel();
            await Task.WhenAny(drained, Task.Delay(TimeSpan.FromSeconds(10)));
        }
        run.Elapsed = clock.Elapsed;
        return run;
    }

    private static async Task InjectAsync(ScenarioRun run, InjectSimulation inject, int fromRate,
        ConcurrentDictionary<long, Task> running, CancellationToken token, CancellationToken stop)
    {
        var ticks = (long)Math.Ceiling(inject.During / inject.Interval);
        var start = Stopwatch.GetTimestamp();
        for (long tick = 0; tick < ticks && !stop.IsCancellationRequested; tick++)
        {
            var due = TimeSpan.FromTicks(inject.Interval.Ticks * tick) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.Zero) await Delay(due, stop);
            var rate = inject.Ramp ? (int)Math.Round(fromRate + (inject.Rate - fromRate) * (tick + 1) / (double)ticks) : inject.Rate;
            for (var i = 0; i < rate; i++)
            {
                var invocation = Interlocked.Increment(ref run.Started);
                if (Interlocked.Read(ref run.InFlight) >= run.Scenario.MaxInFlight)
                {
                    run.Stats.Step("iteration").Fail(Stopwatch.GetTimestamp(), Stopwatch.GetTimestamp(), "dropped:too-many-in-flight");
                    continue;
                }
                var task = IterateAsync(run, new ScenarioContext(run, invocation, -1, token));
                running[invocation] = task;
                _ = task.ContinueWith(_ => running.TryRemove(invocation, out Task? _), TaskScheduler.Default);
            }
        }
    }

    private static async Task KeepConstantAsync(ScenarioRun run, KeepConstantSimulation constant, CancellationToken token, CancellationToken stop)
    {
        var until = Stopwatch.GetTimestamp() + (long)(constant.During.TotalSeconds * Stopwatch.Frequency);
        long remaining = constant.Iterations;
        var copies = Enumerable.Range(0, constant.Copies).Select(copy => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < until && !stop.IsCancellationRequested && Interlocked.Decrement(ref remaining) >= 0)
            {
                var invocation = Interlocked.Increment(ref run.Started);
                await IterateAsync(run, new ScenarioContext(run, invocation, copy, token));
            }
        }, CancellationToken.None));
        await Task.WhenAll(copies);
    }

    private static async Task IterateAsync(ScenarioRun run, ScenarioContext context)
    {
        var inFlight = Interlocked.Increment(ref run.InFlight);
        InterlockedMax(ref run.PeakInFlight, inFlight);
        var started = Stopwatch.GetTimestamp();
        var stats = run.Stats.Step("iteration");
        try
        {
            var response = await run.Scenario.Body(context);
            if (response.IsError) stats.Fail(started, Stopwatch.GetTimestamp(), response.Kind ?? "fail");
            else stats.Ok(started, Stopwatch.GetTimestamp());
        }
        catch (StepFailedException e)
        {
            stats.Fail(started, Stopwatch.GetTimestamp(), e.Kind);
        }
        catch (Exception e)
        {
            stats.Fail(started, Stopwatch.GetTimestamp(), Errors.Kind(e, context.CancellationToken));
        }
        finally
        {
            Interlocked.Decrement(ref run.InFlight);
        }
    }

    public static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current) break;
            current = seen;
        }
    }

    private static async Task Delay(TimeSpan delay, CancellationToken stop)
    {
        try { await Task.Delay(delay, stop); }
        catch (OperationCanceledException) { }
    }
}
