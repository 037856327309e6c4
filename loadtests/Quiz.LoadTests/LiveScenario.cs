using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Runtime;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Quiz.LoadTests;

// The messages of docs/live.md this client reads (only the fields it uses).
public sealed record LiveSession(string Id, string Code);
public sealed record LiveJoinRequest(string? Code, string? Nickname, string? RegionCode, string? RejoinKey);
public sealed record LiveJoined(string SessionId, long PlayerId);
public sealed record LiveQuestion(string SessionId, int Index, int Count, string Type, IReadOnlyList<string> Options, long RemainingMs);
public sealed record LiveAnswerRequest(string SessionId, int Index, int[] Choices);
public sealed record LiveAnswerAck(int Index, bool Accepted);
public sealed record LiveYou(int Index, int Place, int Audience);
public sealed record LiveStanding(int Place, string Nickname, int Points);
/// <param name="You">A phone's own result, in its copy of the reveal.</param>
public sealed record LiveReveal(int Index, IReadOnlyList<LiveStanding> Top, LiveYou? You);
public sealed record LiveHostView(string Phase, int Index, int Answered);

/// <summary>
/// `loadtests/run.sh live` (issue 16): N phones join one live session as guests, then the host
/// plays 10 must-answer questions; every phone answers each within its window. Measured: the
/// fan-out (the host's "show" until a phone has the question), the answer round trip, and the
/// board (the host's "close" until every phone has its reveal, with its own place in it). Before it, a
/// smaller session of its own warms the server up (--live-warmup, not measured). One line last:
///   errors=&lt;n&gt; fanout_p99_ms=&lt;x&gt; answer_p99_ms=&lt;x&gt; board_ms=&lt;x&gt; audience=&lt;n&gt;
/// </summary>
public sealed class LiveScenario(Options options, QuizServer server, CancellationToken stop, IReadOnlyList<ProcessSampler> samplers)
{
    private const int Questions = 10, QuestionSeconds = 20;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<string, long> _errors = new();
    private readonly ConcurrentBag<double> _fanout = [], _answers = [];
    private readonly List<double> _boards = [], _generatorPauses = [], _fanoutPauses = [];
    private readonly List<string> _serverFanoutGcs = [];
    private readonly List<string> _fanoutCpu = [];
    private readonly List<string> _perQuestion = [];
    private readonly List<string> _notes = [];

    private sealed class Phone
    {
        public required Func<LiveAnswerRequest, CancellationToken, Task<LiveAnswerAck>> Answer { get; init; }
        public required Func<ValueTask> Close { get; init; }
        public RawHub? Raw { get; init; }
        public string SessionId { get; set; } = "";
        /// <summary>When each question and each result arrived (Stopwatch timestamps), by index.</summary>
        public long[] QuestionAt { get; } = new long[Questions];
        public long[] YouAt { get; } = new long[Questions];

        public void Question(int index) { if (index is >= 0 and < Questions) QuestionAt[index] = Stopwatch.GetTimestamp(); }
        public void You(int index) { if (index is >= 0 and < Questions) YouAt[index] = Stopwatch.GetTimestamp(); }
    }

    private void Error(string kind) => _errors.AddOrUpdate(kind, 1, (_, n) => n + 1);

    public async Task<int> RunAsync()
    {
        var clock = Stopwatch.StartNew();
        var regions = await server.LeafRegionsAsync(50, stop);
        await using var host = HostConnection();
        await host.StartAsync(stop);
        if (options.LiveWarmup > 0)
        {
            var warm = Stopwatch.StartNew();
            await PlaySessionAsync(host, regions, options.LiveWarmup, WarmupQuestions, measured: false);
            _notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"warm-up first (not in the figures): {options.LiveWarmup} phones played {WarmupQuestions} questions in a session of their own, {warm.Elapsed.TotalSeconds:F1} s"));
        }
        var audience = await PlaySessionAsync(host, regions, options.Participants, Questions, measured: true);

        var line = string.Create(CultureInfo.InvariantCulture,
            $"errors={_errors.Values.Sum()} fanout_p99_ms={P99(_fanout):F1} answer_p99_ms={P99(_answers):F1} board_ms={(_boards.Count == 0 ? 0 : _boards.Max()):F0} audience={audience}");
        WriteReport(line, clock.Elapsed);
        Console.WriteLine(line);
        return _errors.IsEmpty && audience == options.Participants ? 0 : 1;
    }

    private const int WarmupQuestions = 3;

    /// <summary>
    /// One session from start to end: the phones join, the host shows, closes and reveals each
    /// question, every phone answers; the figures are kept when <paramref name="measured"/>.
    /// Errors count either way. Returns the audience.
    /// </summary>
    private async Task<int> PlaySessionAsync(HubConnection host, IReadOnlyList<string> regions, int participants, int questions, bool measured)
    {
        var session = await CreateSessionAsync(questions);
        await host.InvokeAsync<LiveHostView>("Host", session.Id, stop);

        // The room fills: every phone connects and joins, 200 at a time.
        var phones = new ConcurrentBag<Phone>();
        var joinClock = Stopwatch.StartNew();
        using var keepAlive = new CancellationTokenSource();
        var pinging = RawHub.PingIdleAsync(() => phones.Select(p => p.Raw).OfType<RawHub>(), keepAlive.Token);
        await Parallel.ForEachAsync(Enumerable.Range(0, participants), new ParallelOptions { MaxDegreeOfParallelism = 200, CancellationToken = stop }, async (i, ct) =>
        {
            try
            {
                phones.Add(await JoinAsync(session, measured ? $"观众{i}" : $"预热{i}", regions[i % regions.Count], ct));
            }
            catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                Error($"join: {Kind(e)}");
            }
        });
        var audience = phones.Count;
        if (measured) _notes.Add($"{audience} phones joined in {joinClock.Elapsed.TotalSeconds:F1} s");
        var all = phones.ToList();
        var playFrom = DateTimeOffset.UtcNow;

        for (var q = 0; q < questions && !stop.IsCancellationRequested; q++)
        {
            // The stand-in's heap holds 10,000 phones' state; a real audience's phones do not share
            // one. A collection of it while the question arrives would stop every phone's clock at
            // once and be read as the server's delay, so the fan-out is timed with the generator's
            // collections held off (its own pauses are still reported below).
            var serverBefore = measured ? await ServerGcAsync() : null;
            var quiet = measured && HoldCollections();
            var pausedBefore = GC.GetTotalPauseDuration();
            // Every phone answers within the window: after a think time spread over its first half.
            // The answers are armed before the show, not after its reply: 10,000 timers set up by
            // the stand-in while the question goes out would take the cores from the fan-out it
            // measures (a real phone sets its own, on its own CPU). A think time is at least 500 ms.
            var index = q;
            var armedAt = Stopwatch.GetTimestamp();
            var answering = Task.WhenAll(all.Select(phone => AnswerAsync(phone, index, armedAt, measured)));
            var cpuBefore = measured ? Cpu() : null;
            var shownAt = Stopwatch.GetTimestamp();
            var shown = await host.InvokeAsync<LiveHostView>("Command", session.Id, "show", stop);
            if (shown.Index != index) Error($"show: question {shown.Index} shown where {index} was next");
            var fannedOut = FannedOutAsync(all, index, quiet, pausedBefore, measured, cpuBefore);
            await answering;
            await fannedOut;
            if (serverBefore is { } before && await ServerGcAsync() is { } after) _serverFanoutGcs.Add(after.Since(before));
            var closeAt = Stopwatch.GetTimestamp();
            await host.InvokeAsync<LiveHostView>("Command", session.Id, "close", stop);
            await host.InvokeAsync<LiveHostView>("Command", session.Id, "reveal", stop);
            // The board is out when every phone has its place.
            var waited = Stopwatch.StartNew();
            while (all.Any(p => p.YouAt[index] == 0) && waited.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(5, stop);
            var missing = all.Count(p => p.YouAt[index] == 0);
            if (missing > 0) { Error("result not received"); _notes.Add($"question {index}: {missing} phones had no result after 30 s"); }
            var fanout = new List<double>(all.Count);
            foreach (var phone in all)
                if (phone.QuestionAt[index] != 0) fanout.Add(Stopwatch.GetElapsedTime(shownAt, phone.QuestionAt[index]).TotalMilliseconds);
                else Error("question not received");
            if (!measured) continue;
            var last = all.Where(p => p.YouAt[index] != 0).Select(p => p.YouAt[index]).DefaultIfEmpty(closeAt).Max();
            _boards.Add(Stopwatch.GetElapsedTime(closeAt, last).TotalMilliseconds);
            foreach (var f in fanout) _fanout.Add(f);
            _perQuestion.Add(string.Create(CultureInfo.InvariantCulture, $"{Percentile(fanout, 0.5):F0}/{P99(fanout):F0}"));
            // The stand-in's own collections stop every phone's receive loop at once: said apart.
            _generatorPauses.Add((GC.GetTotalPauseDuration() - pausedBefore).TotalMilliseconds);
        }
        if (measured)
        {
            var playTo = DateTimeOffset.UtcNow;
            await Task.Delay(1100, stop); // one more resource sample
            foreach (var sampler in samplers)
            {
                var f = sampler.Figures(playFrom, playTo);
                _notes.Add(string.Create(CultureInfo.InvariantCulture, $"while the questions ran: {f.Process} CPU {f.CpuAvgPercent:F0} % on average (max {f.CpuMaxPercent:F0} %; 200 % = both cores), RSS {f.RssMaxMb:F0} MB"));
            }
        }
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "end", stop);
        await keepAlive.CancelAsync();
        await pinging;
        await Task.WhenAll(all.Select(p => p.Close().AsTask()));
        return audience;
    }

    /// <summary>
    /// The server's GC pause time so far in seconds and its collections by generation (its
    /// /metrics, the runtime's <c>dotnet.gc.pause.time</c> and <c>dotnet.gc.collections</c>), or
    /// null without them. Read before a show and after every phone has the question, outside the
    /// fan-out: it tells a slow question's server collections apart (the exporter caches a scrape
    /// for up to 300 ms, so a short fan-out may read a pause late).
    /// </summary>
    private async Task<ServerGc?> ServerGcAsync()
    {
        if (await server.MetricsAsync(options.AdminKey, stop) is not { } text) return null;
        double? pause = null;
        var collections = new long[3];
        foreach (var line in text.Split('\n'))
        {
            // "name{labels} value [timestamp]"
            if (!line.StartsWith("dotnet_gc_", StringComparison.Ordinal)
                || line[(line.LastIndexOf('}') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries) is not [var value, ..]
                || !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) continue;
            if (line.StartsWith("dotnet_gc_pause_time_seconds_total", StringComparison.Ordinal)) pause = number;
            else if (line.StartsWith("dotnet_gc_collections_total", StringComparison.Ordinal))
                for (var g = 0; g < 3; g++)
                    if (line.Contains($"\"gen{g}\"", StringComparison.Ordinal)) collections[g] = (long)number;
        }
        return pause is { } p ? new ServerGc(p, collections) : null;
    }

    private sealed record ServerGc(double PauseSeconds, long[] Collections)
    {
        /// <summary>"131 ms (gen0 1, gen1 1)", or "0".</summary>
        public string Since(ServerGc before)
        {
            var ms = (PauseSeconds - before.PauseSeconds) * 1000;
            var gens = string.Join(", ", Enumerable.Range(0, 3).Where(g => Collections[g] > before.Collections[g]).Select(g => $"gen{g} {Collections[g] - before.Collections[g]}"));
            return gens.Length == 0 && ms < 0.5 ? "0" : string.Create(CultureInfo.InvariantCulture, $"{ms:F0} ms ({(gens.Length == 0 ? "none" : gens)})");
        }
    }

    /// <summary>
    /// Starts a region without collections in the generator (which may collect once first, before
    /// the show is timed). Room for 256 MB: a fan-out allocates a few MB here.
    /// </summary>
    private bool HoldCollections()
    {
        if (!options.LiveQuietFanout) return false;
        try { return GC.TryStartNoGCRegion(256L << 20); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
        {
            _notes.Add($"the generator could not hold off its collections: {e.Message}");
            return false;
        }
    }

    /// <summary>
    /// Waits until every phone has the question (at most 5 s), ends the region without
    /// collections, and notes the generator's own pauses in the fan-out.
    /// </summary>
    private async Task FannedOutAsync(IReadOnlyList<Phone> phones, int index, bool quiet, TimeSpan pausedBefore, bool measured, CpuTimes? cpuBefore)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(5) && !EveryoneHas(phones, index)) await Task.Delay(5, stop);
        if (cpuBefore is not null && Cpu() is { } cpuAfter) _fanoutCpu.Add(cpuAfter.Since(cpuBefore));
        var paused = GC.GetTotalPauseDuration() - pausedBefore;
        if (quiet && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            try { GC.EndNoGCRegion(); } catch (InvalidOperationException) { }
        if (measured) _fanoutPauses.Add(paused.TotalMilliseconds);

        static bool EveryoneHas(IReadOnlyList<Phone> phones, int index)
        {
            foreach (var phone in phones) if (phone.QuestionAt[index] == 0) return false;
            return true;
        }
    }

    /// <summary>
    /// The time the server's threads and the generator's spent on a CPU and waiting in a run queue
    /// for one, so far: a slow fan-out tells whether it cost more work or waited for the cores.
    /// </summary>
    private CpuTimes? Cpu() =>
        options.ServerPid is { } pid && ProcessSampler.Schedstat(pid) is { } server && ProcessSampler.Schedstat(Environment.ProcessId) is { } self
            ? new CpuTimes(server, self) : null;

    private sealed record CpuTimes((double OnCpuMs, double WaitingMs) Server, (double OnCpuMs, double WaitingMs) Generator)
    {
        /// <summary>"server 212/35, generator 61/20" (ms on a CPU / waiting for one).</summary>
        public string Since(CpuTimes before) => string.Create(CultureInfo.InvariantCulture,
            $"server {Server.OnCpuMs - before.Server.OnCpuMs:F0}/{Server.WaitingMs - before.Server.WaitingMs:F0}, generator {Generator.OnCpuMs - before.Generator.OnCpuMs:F0}/{Generator.WaitingMs - before.Generator.WaitingMs:F0}");
    }

    private async Task AnswerAsync(Phone phone, int index, long armedAt, bool measured)
    {
        var think = TimeSpan.FromMilliseconds(Random.Shared.Next(500, QuestionSeconds * 1000 / 2));
        var wait = think - Stopwatch.GetElapsedTime(armedAt);
        if (wait > TimeSpan.Zero) await Task.Delay(wait, stop);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await phone.Answer(new LiveAnswerRequest(phone.SessionId, index, [Random.Shared.Next(0, 2)]), stop);
            if (measured) _answers.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            Error($"answer: {Kind(e)}");
        }
    }

    /// <summary>A phone connects and joins as a guest, on the client the options name.</summary>
    private async Task<Phone> JoinAsync(LiveSession session, string nickname, string region, CancellationToken ct)
    {
        Phone phone;
        Func<LiveJoinRequest, Task<LiveJoined>> join;
        if (options.Client == "hubconnection")
        {
            var hub = server.Connection("/hubs/live", null);
            phone = new Phone { Answer = (r, c) => hub.InvokeAsync<LiveAnswerAck>("Answer", r, c), Close = hub.DisposeAsync };
            hub.On<LiveQuestion>("LiveQuestion", q => phone.Question(q.Index));
            hub.On<LiveReveal>("LiveReveal", r => { if (r.You is { } you) phone.You(you.Index); });
            join = async request =>
            {
                await hub.StartAsync(ct);
                return await hub.InvokeAsync<LiveJoined>("Join", request, ct);
            };
        }
        else
        {
            var raw = await server.RawHubAsync("/hubs/live", null, ct);
            phone = new Phone { Answer = (r, c) => raw.InvokeAsync<LiveAnswerAck>("Answer", r, c), Close = raw.DisposeAsync, Raw = raw };
            raw.Pushed = (target, message) =>
            {
                if (target.SequenceEqual("LiveQuestion"u8)) { if (RawHub.ReadInt(message, "index") is { } index) phone.Question(index); }
                else if (target.SequenceEqual("LiveReveal"u8) && RawHub.ReadInt(message, "you", "index") is { } you) phone.You(you);
            };
            join = request => raw.InvokeAsync<LiveJoined>("Join", request, ct);
        }
        try
        {
            phone.SessionId = (await join(new LiveJoinRequest(session.Code, nickname, region, null))).SessionId;
            return phone;
        }
        catch
        {
            await phone.Close();
            throw;
        }
    }

    private async Task<LiveSession> CreateSessionAsync(int questions)
    {
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        http.DefaultRequestHeaders.Add("X-Admin-Key", options.AdminKey);
        using var response = await http.PostAsJsonAsync("/api/live/sessions", new
        {
            title = "压力测试现场竞赛（load test）",
            questions = new { track = "general", count = questions },
            rounds = new[] { new { kind = "must-answer", questions } },
            questionSeconds = QuestionSeconds,
        }, Json, stop);
        if (!response.IsSuccessStatusCode) throw new HttpStatusException(response.StatusCode, $"POST /api/live/sessions: {await response.Content.ReadAsStringAsync(stop)}");
        return (await response.Content.ReadFromJsonAsync<LiveSession>(Json, stop))!;
    }

    /// <summary>The host: a staff connection by the admin key (scripts may use it wherever the cookie goes).</summary>
    private HubConnection HostConnection() => new HubConnectionBuilder()
        .WithUrl(new Uri(server.BaseUri, "/hubs/live"), HttpTransportType.WebSockets, o =>
        {
            o.SkipNegotiation = true;
            o.Headers["X-Admin-Key"] = options.AdminKey!;
        })
        .Build();

    private static string Kind(Exception e) => e switch
    {
        Microsoft.AspNetCore.SignalR.HubException or RawHubException => e.Message.Split("HubException: ")[^1].Split(':')[0],
        _ => e.GetType().Name,
    };

    private static double P99(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(sorted.Count * 0.99) - 1)];
    }

    private void WriteReport(string line, TimeSpan took)
    {
        Directory.CreateDirectory(options.Out);
        var file = Path.Combine(options.Out, $"live-{DateTime.UtcNow:yyyyMMdd-HHmmss}.md");
        var text = $"""
            # Load test: live session

            Command: `{options.Command}`; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {RunReport.DescribeMachine()}; {took.TotalSeconds:F0} s; phones on the {options.Client} client.

            {line}

            - fan-out p50/p99/max: {Percentile(_fanout, 0.5):F1} / {P99(_fanout):F1} / {(_fanout.IsEmpty ? 0 : _fanout.Max()):F1} ms ({_fanout.Count} deliveries)
            - answer round trip p50/p99: {Percentile(_answers, 0.5):F1} / {P99(_answers):F1} ms ({_answers.Count} answers)
            - fan-out p50/p99 per question: {string.Join(", ", _perQuestion)} ms
            - board (close → every phone's place), per question: {string.Join(", ", _boards.Select(b => b.ToString("F0", CultureInfo.InvariantCulture)))} ms
            - the generator's own GC pauses from each show to its reveal: {string.Join(", ", _generatorPauses.Select(b => b.ToString("F0", CultureInfo.InvariantCulture)))} ms
            - of them, while the question went out (show → every phone has it; collections held off there: {options.LiveQuietFanout}): {string.Join(", ", _fanoutPauses.Select(b => b.ToString("F0", CultureInfo.InvariantCulture)))} ms
            - CPU in each fan-out (show → every phone has it), ms on a CPU / ms waiting for one, summed over each process's threads: {(_fanoutCpu.Count == 0 ? "not read" : string.Join("; ", _fanoutCpu))}
            - the server's GC pauses around each fan-out (its /metrics before the show and after every phone had the question): {(_serverFanoutGcs.Count == 0 ? "not read" : string.Join("; ", _serverFanoutGcs))}
            - errors: {(_errors.IsEmpty ? "none" : string.Join(", ", _errors.Select(e => $"{e.Key} {e.Value}")))}
            {string.Join("\n", _notes.Select(n => "- " + n))}
            """;
        File.WriteAllText(file, text);
        Console.Error.WriteLine($"report: {file}");
    }

    private static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(sorted.Count * p) - 1)];
    }
}
