using System.Globalization;

namespace Quiz.LoadTests;

/// <summary>
/// The command line: <c>Quiz.LoadTests &lt;scenario&gt; --url http://127.0.0.1:5000 [--name value]...</c>.
/// Defaults per scenario are the targets (10,000 participants, answers every 2 s).
/// </summary>
public sealed record Options
{
    /// <summary>The campaign the generator creates (100 attempts a day); any other id is played as the server has it.</summary>
    public const string LoadCampaign = "load";

    public required string Scenario { get; init; }
    public Uri Url { get; init; } = new("http://127.0.0.1:5000");
    /// <summary>Participants (burst, smoke) or connections held (sustained, soak, baseline).</summary>
    public int Participants { get; init; } = 10_000;
    /// <summary>Burst: the window in which all participants arrive.</summary>
    public double RampSeconds { get; init; } = 10;
    /// <summary>Warm-up (sustained, soak, baseline, burst --preregistered): registrations and connections at once.</summary>
    public int WarmupConcurrency { get; init; } = 64;
    /// <summary>Burst: register everyone before the burst, so the burst measures connect, start and play alone.</summary>
    public bool Preregistered { get; init; }
    public int ThinkMs { get; init; } = 2000;
    /// <summary>Sustained, soak, baseline: how long the measured phase lasts.</summary>
    public double DurationSeconds { get; init; } = 60;
    /// <summary>Sustained, soak: rounds started a second (0 = participants ÷ the round's length at the think time, or ÷ round-every for soak).</summary>
    public double Rate { get; init; }
    /// <summary>Soak: each participant plays a round about this often.</summary>
    public double RoundEverySeconds { get; init; } = 60;
    /// <summary>Baseline: calls in flight (virtual users in a closed loop), for the play saturation and the echo alike.</summary>
    public int InFlight { get; init; } = 500;
    public double EchoSeconds { get; init; } = 15;
    public int EchoInFlight { get; init; } = 500;
    /// <summary>The demo campaign (3 attempts a day), "load" (created by the generator, needs the admin key), or any other campaign of the server.</summary>
    public string Campaign { get; init; } = LoadCampaign;
    public string? AdminKey { get; init; }
    public int QuestionsPerRound { get; init; } = 5;
    public int? ServerPid { get; init; }
    /// <summary>The file the server's console goes to: registration reads its verification codes there (the Log provider).</summary>
    public string? ServerLog { get; init; }
    public int? RedisPid { get; init; }
    /// <summary>Loopback source addresses the phones spread over (0: the default one), for a balancer that is sticky by address.</summary>
    public int SourceAddresses { get; init; }
    public string Out { get; init; } = "loadtests/results";
    public bool Negotiate { get; init; }
    /// <summary>The phones' hub client, "raw" (<see cref="RawHub"/>) or "hubconnection" (the .NET SignalR client).</summary>
    public string Client { get; init; } = "raw";
    /// <summary>
    /// live: phones of a warm-up session played before the measured one, so the measured questions
    /// meet a server whose hot paths the JIT has already optimised, as on a server that has been
    /// running (the first question after a start spent a quarter of the server's CPU in the JIT).
    /// </summary>
    public int LiveWarmup { get; init; } = 1_000;
    /// <summary>Hold off the generator's own collections while each question goes out (--live-quiet-fanout false to allow them).</summary>
    public bool LiveQuietFanout { get; init; } = true;
    /// <summary>
    /// Finish each round by a Finish call after its last answer, as clients did before an answer
    /// could finish the round (docs/protocol.md); by default the last answer carries <c>finish: true</c>, as the phone page does.
    /// </summary>
    public bool FinishCall { get; init; }
    public string Command { get; init; } = "";
    /// <summary>The whole run stops by itself after this long, whatever it is doing.</summary>
    public double MaxSeconds { get; init; }

    public static Options Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-')) throw new ArgumentException(Usage);
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 1; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--")) throw new ArgumentException($"unexpected '{args[i]}'\n{Usage}");
            var key = args[i][2..];
            if (key is "negotiate" or "preregistered" or "finish-call") { values[key] = "true"; continue; }
            if (i + 1 >= args.Length) throw new ArgumentException($"--{key} needs a value");
            values[key] = args[++i];
        }
        var scenario = args[0];
        var o = Defaults(scenario);
        // The baseline compares at the same calls in flight and for as long, unless told otherwise.
        var echoInFlightGiven = values.ContainsKey("echo-in-flight");
        var echoSecondsGiven = values.ContainsKey("echo-seconds");
        string? S(string k) => values.Remove(k, out var v) ? v : null;
        double? D(string k) => S(k) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : null;
        int? I(string k) => S(k) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : null;
        o = o with
        {
            Url = S("url") is { } url ? new Uri(url) : o.Url,
            Participants = I("participants") ?? o.Participants,
            RampSeconds = D("ramp") ?? o.RampSeconds,
            WarmupConcurrency = I("warmup-concurrency") ?? o.WarmupConcurrency,
            Preregistered = S("preregistered") is not null,
            ThinkMs = I("think-ms") ?? o.ThinkMs,
            DurationSeconds = D("duration") ?? o.DurationSeconds,
            Rate = D("rate") ?? o.Rate,
            RoundEverySeconds = D("round-every") ?? o.RoundEverySeconds,
            InFlight = I("in-flight") ?? o.InFlight,
            EchoSeconds = D("echo-seconds") ?? o.EchoSeconds,
            EchoInFlight = I("echo-in-flight") ?? o.EchoInFlight,
            Campaign = S("campaign") ?? o.Campaign,
            AdminKey = S("admin-key") ?? o.AdminKey,
            ServerPid = I("server-pid"),
            ServerLog = S("server-log"),
            RedisPid = I("redis-pid"),
            SourceAddresses = I("source-addresses") ?? 0,
            Out = S("out") ?? o.Out,
            Negotiate = S("negotiate") is not null,
            Client = S("client") ?? S("live-client") ?? o.Client,
            LiveWarmup = I("live-warmup") ?? o.LiveWarmup,
            LiveQuietFanout = S("live-quiet-fanout") is { } quiet ? bool.Parse(quiet) : o.LiveQuietFanout,
            FinishCall = S("finish-call") is not null,
            Command = S("command") ?? "Quiz.LoadTests " + string.Join(' ', args),
            MaxSeconds = D("max-seconds") ?? 0,
        };
        if (scenario == "baseline" && !echoInFlightGiven) o = o with { EchoInFlight = o.InFlight };
        if (scenario == "baseline" && !echoSecondsGiven) o = o with { EchoSeconds = o.DurationSeconds };
        if (values.Count > 0) throw new ArgumentException($"unknown option --{values.Keys.First()}\n{Usage}");
        if (o.Client is not ("raw" or "hubconnection")) throw new ArgumentException("--client: raw or hubconnection");
        if (o.Negotiate && o.Client == "raw") throw new ArgumentException("--negotiate: the raw client never negotiates; add --client hubconnection");
        if (o.LiveWarmup is < 0 or > 5_000) throw new ArgumentException("--live-warmup: 0 to 5,000 phones");
        if (o.SourceAddresses is < 0 or > 10_000) throw new ArgumentException("--source-addresses: 0 to 10,000");
        if (o.Participants is < 1 or > 19_000) throw new ArgumentException("--participants: 1 to 19,000 (the file-descriptor limit is 20,000 a process)");
        if (o.ThinkMs is < 0 or > 20_000) throw new ArgumentException("--think-ms: 0 to 20,000 (a round lasts 120 s)");
        if (o.DurationSeconds is <= 0 or > 6 * 3600) throw new ArgumentException("--duration: up to 6 hours");
        if (o.Campaign == LoadCampaign && o.AdminKey is null) throw new ArgumentException($"--campaign {LoadCampaign} is created by the generator: give --admin-key");
        return o.MaxSeconds > 0 ? o : o with { MaxSeconds = o.Budget() };
    }

    private static Options Defaults(string scenario) => scenario switch
    {
        "burst" => new Options { Scenario = scenario, Campaign = "demo" },
        "sustained" => new Options { Scenario = scenario, DurationSeconds = 120 },
        "soak" => new Options { Scenario = scenario, DurationSeconds = 600 },
        "baseline" => new Options { Scenario = scenario, ThinkMs = 0, DurationSeconds = 30 },
        "live" => new Options { Scenario = scenario, Campaign = "demo", EchoSeconds = 0 },
        "smoke" => new Options { Scenario = scenario, Campaign = "demo", Participants = 200, RampSeconds = 2, ThinkMs = 200, EchoSeconds = 3, EchoInFlight = 50 },
        _ => throw new ArgumentException($"unknown scenario '{scenario}'\n{Usage}"),
    };

    /// <summary>A generous bound on the whole run: every phase at its longest, plus closing.</summary>
    private double Budget() => Scenario switch
    {
        "live" => 900,
        "burst" or "smoke" => RampSeconds + QuestionsPerRound * ThinkMs / 1000.0 + 180 + (Preregistered ? 960 : 0),
        _ => 960 + DurationSeconds + 240,
    } + (EchoSeconds > 0 ? EchoSeconds + 90 : 0);

    public const string Usage = """
        usage: Quiz.LoadTests <burst|sustained|soak|baseline|smoke|live> --url http://127.0.0.1:PORT [options]
          --participants N     participants (burst, smoke), phones in the room (live) or connections held (others)   [10000; smoke 200]
          --ramp S             burst: all participants arrive within S seconds            [10; smoke 2]
          --preregistered      burst: register everyone first; the burst is connect, start, play
          --warmup-concurrency C  warm-up: registrations (and connections) at once         [64]
          --think-ms MS        think time before each answer                              [2000; baseline 0; smoke 200]
          --duration S         sustained, soak, baseline: the measured phase              [120, 600, 30]
          --rate R             sustained, soak: rounds started a second                   [participants ÷ round length; soak: ÷ round-every]
          --round-every S      soak: each participant plays about this often              [60]
          --in-flight K        baseline: virtual users in a closed loop                   [500]
          --echo-seconds S     the echo phase at the end (0: none)                        [15; smoke 3]
          --echo-in-flight K   echo calls in flight                                       [500; baseline: --in-flight]
          --campaign ID        demo (3 attempts a day), load (created by the run, 100 a day) or any other  [burst, smoke: demo; others: load]
          --admin-key KEY      X-Admin-Key, to create the load campaign
          --server-pid P --redis-pid P   processes whose CPU and memory to sample
          --server-log FILE[,FILE...]  the server's console output (each node's, for a cluster), where registration reads its verification codes
          --source-addresses K phones spread over K loopback addresses 127.a.b.1 (for nginx's ip_hash in front of a cluster)  [0]
          --out DIR            where the report goes                                      [loadtests/results]
          --negotiate          negotiate before the WebSocket (as browsers do; with --client hubconnection); default: skip it
          --client C           the phones' hub client: raw (a bare WebSocket speaking the hub protocol) or hubconnection
                               (the .NET SignalR client, ~2 x the generator's CPU a connection); --live-client is the same  [raw]
          --live-warmup N      live: N phones play 3 questions in a session of their own first, not measured (0: none)  [1000]
          --live-quiet-fanout B  live: hold off the generator's own collections while a question goes out (true/false)  [true]
          --finish-call        end each round with a Finish call after its last answer; default: the last answer
                               carries finish: true and is recorded as the step "answer+finish"
          --max-seconds S      hard stop of the whole run                                 [from the options]
        """;
}
