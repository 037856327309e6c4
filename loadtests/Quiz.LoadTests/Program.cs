using System.Diagnostics;
using Quiz.LoadTests;

// The load generator of loadtests/run.sh: runs one scenario against a running server, writes the
// report (Markdown and JSON) and prints one summary line last:
//   errors=<n> answers/s=<x> p99_ms=<y> echo_ratio=<r> connections=<c> [start_s=<s>, the burst only]
// (the live scenario: errors=<n> fanout_p99_ms=<x> answer_p99_ms=<y> board_ms=<z> audience=<n>)
// Exit code: 0, or 1 when any request failed (the CI smoke relies on it), 2 on bad arguments,
// 3 when the run outlived --max-seconds.

Options options;
try { options = Options.Parse(args); }
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

// 10,000 connections' continuations arrive in bursts: start with enough threads not to wait for injection.
ThreadPool.SetMinThreads(Math.Max(64, Environment.ProcessorCount * 16), 64);

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
var watchdog = new Timer(_ =>
{
    Console.Error.WriteLine($"watchdog: the run exceeded {options.MaxSeconds:F0} s; stopping");
    Console.Out.Flush();
    Environment.Exit(3);
}, null, TimeSpan.FromSeconds(options.MaxSeconds), Timeout.InfiniteTimeSpan);

var samplers = new List<ProcessSampler>();
if (options.ServerPid is { } serverPid) samplers.Add(new ProcessSampler("server", serverPid));
if (options.RedisPid is { } redisPid) samplers.Add(new ProcessSampler("redis", redisPid));
samplers.Add(new ProcessSampler("load generator", Environment.ProcessId));

await using var serverLog = options.ServerLog is { } logPaths ? new ServerLog(logPaths.Split(',', StringSplitOptions.RemoveEmptyEntries)) : null;
using var server = new QuizServer(options.Url, skipNegotiation: !options.Negotiate, serverLog, options.SourceAddresses);
if (options.Scenario == "live")
{
    // Its own measures and line (docs/live.md): a host and an audience, not rounds.
    try { return await new LiveScenario(options, server, stop.Token, samplers).RunAsync(); }
    finally { await watchdog.DisposeAsync(); }
}
var scenarios = new Scenarios(options, server, stop.Token);
var clock = Stopwatch.StartNew();
try
{
    await scenarios.RunAsync();
}
catch (Exception e) when (e is HttpRequestException or HttpStatusException or InvalidOperationException)
{
    // Set-up failed (server unreachable, campaign refused): report what ran and fail.
    Console.Error.WriteLine($"the run could not go on: {e.Message}");
    await Task.Delay(1100);
    await FinishAsync();
    return 1;
}
return await FinishAsync();

async Task<int> FinishAsync()
{
    await Task.Delay(1100); // one more resource sample after the last phase
    foreach (var sampler in samplers) await sampler.DisposeAsync();
    var report = RunReport.Build(options, scenarios, samplers);
    var (markdown, json) = report.Write(options.Out);
    Console.Error.WriteLine($"report: {markdown} and {json} ({clock.Elapsed.TotalSeconds:F0} s)");
    await watchdog.DisposeAsync();
    Console.WriteLine(report.Summary);
    return report.Summary.Errors == 0 && scenarios.Phases.Count > 0 ? 0 : 1;
}
