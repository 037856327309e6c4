using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Quiz.LoadTests;

public sealed record PhaseReport(
    string Name, string Description, DateTimeOffset From, DateTimeOffset To, double Seconds, long PeakIterationsInFlight,
    IReadOnlyList<StepFigures> Steps, IReadOnlyDictionary<string, double> Extra, IReadOnlyList<ResourceFigures> Resources);

/// <param name="StartSeconds">The burst only: seconds from the first arrival until the last participant had started a round.</param>
public sealed record Summary(long Errors, double AnswersPerSecond, double AnswerP99Ms, double? EchoCallsPerSecond, double? EchoRatio, long Connections,
    double? StartSeconds = null)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"errors={Errors} answers/s={AnswersPerSecond:F1} p99_ms={AnswerP99Ms:F2} echo_ratio={(EchoRatio is { } r ? r.ToString("F3", CultureInfo.InvariantCulture) : "na")} connections={Connections}")
        + (StartSeconds is { } s ? string.Create(CultureInfo.InvariantCulture, $" start_s={s:F2}") : "");
}

public sealed record RunReport(
    string Scenario, string Command, DateTimeOffset Date, string Machine, Options Options, string EchoMethod,
    IReadOnlyList<PhaseReport> Phases, long LostConnections, IReadOnlyDictionary<string, long> LostByKind, Summary Summary, IReadOnlyList<string> ServerMetrics)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static RunReport Build(Options options, Scenarios run, IReadOnlyList<ProcessSampler> samplers)
    {
        PhaseReport Of(Phase phase)
        {
            // Paced scenarios run rounds that end after the window: their rates are over the window itself.
            TimeSpan? over = phase == run.Main && options.Scenario is "sustained" or "soak" ? TimeSpan.FromSeconds(options.DurationSeconds) : null;
            var steps = phase.Run.Stats.Steps.Select(s => s.Figures(over)).ToList();
            return new PhaseReport(phase.Name, phase.Description, phase.From, phase.To, Math.Round((phase.To - phase.From).TotalSeconds, 1),
                phase.Run.PeakInFlight, steps, phase.Extra, samplers.Select(s => s.Figures(phase.From, phase.To)).ToList());
        }

        var phases = run.Phases.Select(Of).ToList();
        var main = run.Main is null ? null : phases[run.Phases.ToList().IndexOf(run.Main)];
        var answers = main?.Steps.FirstOrDefault(s => s.Step == "answer");
        var echo = run.Echo is null ? null : phases[run.Phases.ToList().IndexOf(run.Echo)].Steps.FirstOrDefault(s => s.Step == "echo");
        var errors = run.Phases.Sum(p => p.Run.Stats.Errors) + run.LostConnections;
        var answersPerSecond = answers?.RequestsPerSecond ?? 0;
        var summary = new Summary(errors, answersPerSecond, answers?.P99Ms ?? 0, echo?.RequestsPerSecond,
            echo is { RequestsPerSecond: > 0 } ? Math.Round(answersPerSecond / echo.RequestsPerSecond, 3) : null, run.PeakConnections,
            options.Scenario == "burst" && main?.Extra.TryGetValue("all_started_within_s", out var started) == true ? started : null);
        var metrics = (run.MetricsAtPeak ?? "").Split('\n')
            .Where(l => (l.StartsWith("quiz_") || l.StartsWith("http_server_request_duration_seconds_")) && !l.Contains("_bucket{"))
            .Select(l => l.TrimEnd()).ToList();
        return new RunReport(options.Scenario, options.Command, DateTimeOffset.Now, DescribeMachine(), options, run.EchoMethod, phases, run.LostConnections, new SortedDictionary<string, long>(run.LostByKind), summary, metrics);
    }

    public static string DescribeMachine()
    {
        var model = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() : null;
        var memory = File.Exists("/proc/meminfo")
            ? File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal"))?.Split(':', 2)[1].Trim() : null;
        return $"{Environment.ProcessorCount} cores, {model ?? "unknown CPU"}, {memory ?? "? kB"} RAM, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}";
    }

    public (string Markdown, string Json) Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var stem = Path.Combine(directory, $"{Scenario}-{Date:yyyyMMdd-HHmmss}");
        File.WriteAllText(stem + ".json", JsonSerializer.Serialize(this, Json));
        File.WriteAllText(stem + ".md", Markdown());
        return (stem + ".md", stem + ".json");
    }

    public string Markdown()
    {
        var md = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        md.AppendLine(c, $"# Load test: {Scenario}").AppendLine();
        md.AppendLine(c, $"- Date: {Date:yyyy-MM-dd HH:mm zzz}");
        md.AppendLine(c, $"- Machine: {Machine}");
        md.AppendLine(c, $"- Command: `{Command}`");
        md.AppendLine(c, $"- Echo baseline: {EchoMethod}");
        md.AppendLine(c, $"- Hub connections lost mid-run: {LostConnections}{(LostConnections > 0 ? " (" + string.Join(", ", LostByKind.Select(e => $"{e.Key}: {e.Value}")) + ")" : "")}").AppendLine();
        md.AppendLine("```").AppendLine(Summary.ToString()).AppendLine("```").AppendLine();
        foreach (var phase in Phases)
        {
            md.AppendLine(c, $"## {phase.Name}").AppendLine();
            md.AppendLine(c, $"{phase.Description}. {phase.Seconds} s, at most {phase.PeakIterationsInFlight} iterations in flight.").AppendLine();
            md.AppendLine("| step | ok | failed | req/s | mean ms | p50 ms | p75 ms | p95 ms | p99 ms | max ms | errors |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
            foreach (var s in phase.Steps)
                md.AppendLine(c, $"| {s.Step} | {s.Ok} | {s.Failed} | {s.RequestsPerSecond} | {s.MeanMs} | {s.P50Ms} | {s.P75Ms} | {s.P95Ms} | {s.P99Ms} | {s.MaxMs} | {string.Join(", ", s.Errors.Select(e => $"{e.Key}: {e.Value}"))} |");
            md.AppendLine();
            if (phase.Extra.Count > 0) md.AppendLine(string.Join(", ", phase.Extra.Select(e => $"{e.Key} = {e.Value.ToString(c)}"))).AppendLine();
            if (phase.Resources.Count > 0)
            {
                md.AppendLine("| process | CPU avg % (of one core) | CPU max % | RSS last MiB | RSS max MiB | RSS high-water MiB |");
                md.AppendLine("|---|---:|---:|---:|---:|---:|");
                foreach (var r in phase.Resources)
                    md.AppendLine(c, $"| {r.Process} ({r.Pid}) | {r.CpuAvgPercent} | {r.CpuMaxPercent} | {r.RssLastMb} | {r.RssMaxMb} | {r.RssHighWaterMb} |");
                md.AppendLine();
            }
        }
        if (ServerMetrics.Count > 0)
        {
            md.AppendLine("## Server metrics (/metrics, quiz_* and the HTTP request durations at the end of the main phase)").AppendLine();
            md.AppendLine("```");
            foreach (var line in ServerMetrics) md.AppendLine(line);
            md.AppendLine("```");
        }
        return md.ToString();
    }
}
