using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using HdrHistogram;
using Microsoft.AspNetCore.SignalR;

namespace Quiz.LoadTests;

/// <summary>The statistics of every step of a scenario, by name, in the order they first ran.</summary>
public sealed class StatsBook
{
    private readonly ConcurrentDictionary<string, StepStats> _steps = new();
    private int _order;

    public StepStats Step(string name) => _steps.GetOrAdd(name, n => new StepStats(n, Interlocked.Increment(ref _order)));

    public IEnumerable<StepStats> Steps => _steps.Values.OrderBy(s => s.Order);

    public long Errors => _steps.Values.Where(s => s.Name != "iteration").Sum(s => s.Failed)
        + (_steps.TryGetValue("iteration", out var i) ? i.ErrorsOfItsOwn : 0);
}

/// <summary>
/// One step: latencies of successful and failed requests (µs, HdrHistogram, 3 significant
/// digits), the errors by kind, and the span from its first request to its last reply.
/// </summary>
public sealed class StepStats(string name, int order)
{
    private const long MaxMicros = 10L * 60 * 1_000_000;
    private readonly LongConcurrentHistogram _latency = new(1, MaxMicros, 3);
    private readonly ConcurrentDictionary<string, long> _errors = new();
    private long _ok, _failed, _first = long.MaxValue, _last = long.MinValue;

    public string Name { get; } = name;
    public int Order { get; } = order;
    public long OkCount => Interlocked.Read(ref _ok);
    public long Failed => Interlocked.Read(ref _failed);
    public IReadOnlyDictionary<string, long> ErrorsByKind => _errors;
    /// <summary>Iteration failures that no step recorded (dropped iterations, scenario-level failures).</summary>
    public long ErrorsOfItsOwn => _errors.Where(e => e.Key.StartsWith("dropped:") || e.Key.StartsWith("scenario:")).Sum(e => e.Value);

    public void Ok(long started, long ended)
    {
        Record(started, ended);
        Interlocked.Increment(ref _ok);
    }

    public void Fail(long started, long ended, string kind)
    {
        Record(started, ended);
        Interlocked.Increment(ref _failed);
        _errors.AddOrUpdate(kind, 1, (_, n) => n + 1);
    }

    private void Record(long started, long ended)
    {
        var micros = (long)Stopwatch.GetElapsedTime(started, ended).TotalMicroseconds;
        _latency.RecordValue(Math.Clamp(micros, 1, MaxMicros));
        ScenarioRunner.InterlockedMax(ref _last, ended);
        var first = Interlocked.Read(ref _first);
        while (started < first)
        {
            var seen = Interlocked.CompareExchange(ref _first, started, first);
            if (seen == first) break;
            first = seen;
        }
    }

    /// <summary>The figures of this step; requests a second over <paramref name="over"/>, or over its own span when null.</summary>
    public StepFigures Figures(TimeSpan? over = null)
    {
        var h = _latency.Copy();
        var count = OkCount + Failed;
        var span = count == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(Interlocked.Read(ref _first), Interlocked.Read(ref _last));
        var seconds = (over ?? span).TotalSeconds;
        double Ms(double percentile) => count == 0 ? 0 : Math.Round(h.GetValueAtPercentile(percentile) / 1000.0, 2);
        return new StepFigures(Name, OkCount, Failed, Math.Round(span.TotalSeconds, 2),
            seconds > 0 ? Math.Round(count / seconds, 1) : 0,
            count == 0 ? 0 : Math.Round(h.GetMean() / 1000.0, 2), Ms(50), Ms(75), Ms(95), Ms(99),
            count == 0 ? 0 : Math.Round(h.GetMaxValue() / 1000.0, 2),
            new SortedDictionary<string, long>(_errors.ToDictionary(e => e.Key, e => e.Value)));
    }
}

public sealed record StepFigures(
    string Step, long Ok, long Failed, double SpanSeconds, double RequestsPerSecond,
    double MeanMs, double P50Ms, double P75Ms, double P95Ms, double P99Ms, double MaxMs,
    IReadOnlyDictionary<string, long> Errors);

/// <summary>An exception as an error kind: the hub's error code, the HTTP status, or what failed on the wire.</summary>
public static partial class Errors
{
    [GeneratedRegex(@"HubException: ([a-z-]+):")]
    private static partial Regex HubCode();

    public static string Kind(Exception e, CancellationToken token) => e switch
    {
        HubException hub => HubCode().Match(hub.Message) is { Success: true } m ? $"hub:{m.Groups[1].Value}" : "hub:" + Short(hub.Message),
        HttpStatusException http => $"http:{(int)http.Status}",
        HttpRequestException { StatusCode: { } status } => $"http:{(int)status}",
        HttpRequestException => "http:" + (e.InnerException?.GetType().Name ?? "request-failed"),
        OperationCanceledException when token.IsCancellationRequested => "cancelled:run-ended",
        OperationCanceledException or TimeoutException => "timeout",
        WebSocketException ws => "websocket:" + ws.WebSocketErrorCode,
        InvalidOperationException when e.Message.Contains("not active", StringComparison.OrdinalIgnoreCase) => "connection-lost",
        IOException => "io:" + (e.InnerException?.GetType().Name ?? "io"),
        _ => e.GetType().Name,
    };

    private static string Short(string message) => message.Length <= 60 ? message : message[..60];
}

public sealed class HttpStatusException(HttpStatusCode status, string body) : Exception($"HTTP {(int)status}: {body}")
{
    public HttpStatusCode Status { get; } = status;
}
