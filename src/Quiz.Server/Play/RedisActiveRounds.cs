using System.Collections.Concurrent;
using System.Text.Json;
using Quiz.Server.Campaigns;
using Quiz.Server.Participants;
using Quiz.Server.Questions;
using StackExchange.Redis;

namespace Quiz.Server.Play;

/// <summary>Where rounds in play are kept: <c>Rounds:Store</c> = InProcess (default) or Redis, at <c>Rounds:Redis</c>.</summary>
public sealed class RoundsOptions
{
    public const string Section = "Rounds";
    public string Store { get; set; } = "InProcess";
    /// <summary>A StackExchange.Redis configuration string; empty: the ranking's Redis (<c>Ranking:Redis</c>).</summary>
    public string Redis { get; set; } = "";
    /// <summary>How often each node looks for rounds past their deadline (Redis only).</summary>
    public TimeSpan DeadlinePoll { get; set; } = TimeSpan.FromMilliseconds(250);

    public bool InRedis => Store == "Redis";

    public void Validate(string? rankingRedis)
    {
        if (Store is not ("InProcess" or "Redis")) throw new InvalidOperationException($"Rounds:Store must be InProcess or Redis, not '{Store}'");
        if (InRedis && string.IsNullOrWhiteSpace(Redis)) Redis = rankingRedis ?? "";
        if (InRedis && string.IsNullOrWhiteSpace(Redis)) throw new InvalidOperationException("Rounds:Store is Redis: set Rounds:Redis (or Ranking:Redis)");
        if (DeadlinePoll <= TimeSpan.Zero) throw new InvalidOperationException("Rounds:DeadlinePoll must be positive");
    }
}

/// <summary>
/// Rounds in play in Redis, so that a round started on one node is answered, resumed and finished
/// on any other, and a node that dies takes no round with it. A round is one hash
/// (<c>quiz:round:{id}</c>): its definition (<c>m</c>: who, which stage, the questions drawn with
/// the shown order of their options), the time of its last answer (<c>l</c>), its flag (<c>f</c>),
/// one field per answer (<c>a0</c>…), and <c>x</c> once it began to finish. The participant's
/// current round of a campaign is a key that expires at the deadline, and every deadline is in
/// one sorted set that all nodes watch (<see cref="ClaimDueAsync"/>). The answer key never leaves
/// the server: Redis is the server's. Nothing here is the record: the store is. A round lost with
/// Redis (restarted empty) is voided by <see cref="RoundSweeper"/> and its attempt given back.
/// <para>
/// While Redis is away, a node still finishes the rounds it holds a copy of: every node keeps the
/// rounds it started or recorded an answer of (a phone stays on its node while nothing dies; the
/// copy also spares an answer a read of the round), and a Finish that cannot reach Redis commits
/// that copy. Starts, answers and resumes answer
/// store-unavailable meanwhile (nothing was recorded; the phone tries again). When Redis returns,
/// the rounds finished meanwhile leave it (<see cref="ReleaseFinishedAsync"/>).
/// </para>
/// </summary>
public sealed class RedisActiveRounds : IActiveRounds, IDisposable
{
    private const string DeadlinesKey = "quiz:round-deadlines";
    /// <summary>How long a round's keys outlive its deadline if no node finishes it (all of them died).</summary>
    private static readonly TimeSpan Linger = TimeSpan.FromMinutes(30);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // The first answer counts; none once the round is finishing; and the answer is judged against
    // the previous one's time, so it is recorded only if that time is still the one it was judged by.
    private static readonly LuaScript AnswerScript = LuaScript.Prepare("""
        local given = redis.call('HGET', @round, @field)
        if given then return {'given', given} end
        if redis.call('HEXISTS', @round, 'x') == 1 then return {'finishing'} end
        local last = redis.call('HGET', @round, 'l')
        if not last then return {'gone'} end
        if last ~= @last then return {'moved', last} end
        redis.call('HSET', @round, @field, @answer, 'l', @now)
        if @flag ~= '' then redis.call('HSETNX', @round, 'f', @flag) end
        return {'recorded'}
        """);

    // From now on the round takes no answer: what it has is what is committed.
    private static readonly LuaScript FinishScript = LuaScript.Prepare("""
        if redis.call('EXISTS', @round) == 0 then return false end
        redis.call('HSET', @round, 'x', @node)
        return redis.call('HGETALL', @round)
        """);

    private static readonly LuaScript ReleaseCurrentScript = LuaScript.Prepare("""
        if redis.call('GET', @current) == @id then redis.call('DEL', @current) end
        return 1
        """);

    private static readonly LuaScript ClaimDueScript = LuaScript.Prepare("""
        local due = redis.call('ZRANGEBYSCORE', @deadlines, '-inf', @now, 'LIMIT', 0, @count)
        for _, id in ipairs(due) do redis.call('ZADD', @deadlines, 'XX', @lease, id) end
        return due
        """);

    private readonly ConnectionMultiplexer _redis;
    private readonly CampaignCatalog _campaigns;
    private readonly ParticipantRegistry _participants;
    private readonly QuestionBank _bank;
    private readonly string _node;
    /// <summary>Question versions never change once stored: a round's questions are read from the store once per node.</summary>
    private readonly ConcurrentDictionary<(string Id, int Version), StoredQuestion> _questions = new();
    /// <summary>Finishes under way on this node: callers on this node share one run.</summary>
    private readonly ConcurrentDictionary<string, Task<RoundResult?>> _finishing = new();
    /// <summary>This node's copies of the rounds it started or answered, until their deadline is well past: for a Finish while Redis is away.</summary>
    private readonly ConcurrentDictionary<string, ActiveRound> _copies = new();
    /// <summary>Rounds committed while Redis was away, to take out of it when it returns.</summary>
    private readonly ConcurrentQueue<ActiveRound> _unreleased = new();
    /// <summary>When each copy is dropped.</summary>
    private readonly DueQueue<string> _dropCopies;
    private readonly TimeProvider _clock;

    public RedisActiveRounds(RoundsOptions options, CampaignCatalog campaigns, ParticipantRegistry participants, QuestionBank bank, RoundStore store,
        TimeProvider clock)
    {
        _clock = clock;
        _dropCopies = new DueQueue<string>(clock, id => _copies.TryRemove(id, out _));
        var config = ConfigurationOptions.Parse(options.Redis);
        // Start while Redis is down, and fail fast meanwhile: a call answers store-unavailable at once.
        config.AbortOnConnectFail = false;
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ReconnectRetryPolicy ??= new LinearRetry(500);
        // A round's calls are a few microseconds of Redis: one that takes a second means Redis is
        // stuck (frozen, swapping), and the phone is better told so than kept waiting five.
        if (!options.Redis.Contains("asyncTimeout", StringComparison.OrdinalIgnoreCase)) config.AsyncTimeout = 1000;
        if (!options.Redis.Contains("syncTimeout", StringComparison.OrdinalIgnoreCase)) config.SyncTimeout = 1000;
        _redis = ConnectionMultiplexer.Connect(config);
        _campaigns = campaigns;
        _participants = participants;
        _bank = bank;
        _node = store.NodeId;
    }

    public bool SharedDeadlines => true;

    private IDatabase Db => _redis.GetDatabase();

    private static string RoundKey(string id) => $"quiz:round:{{{id}}}";

    private static string CurrentKey(long participantId, string campaignId) => $"quiz:current:{{{participantId}}}:{campaignId}";

    private sealed record Definition(long Participant, string Campaign, string Stage, string? Scene, DateOnly Day,
        DateTimeOffset StartedAt, DateTimeOffset Deadline, int AttemptsLeft, RoundStore.StoredRef[] Questions);

    public async Task AddAsync(ActiveRound round)
    {
        var definition = new Definition(round.Participant.Id, round.Campaign.Id, round.Stage.Id, round.Scene, round.Day, round.StartedAt,
            round.Deadline, round.AttemptsLeft, [.. round.Questions.Select(q => new RoundStore.StoredRef(q.Question.Id, q.Stored.Version, q.Order))]);
        var key = RoundKey(round.Id);
        // Lifetimes from the server's clock, which holds the deadline, not from Redis's.
        var left = round.Deadline - _clock.GetUtcNow();
        var transaction = Db.CreateTransaction();
        _ = transaction.HashSetAsync(key, [new("m", JsonSerializer.Serialize(definition, Json)), new("l", Ticks(round.LastAnswerAt))]);
        _ = transaction.KeyExpireAsync(key, left + Linger);
        _ = transaction.StringSetAsync(CurrentKey(round.Participant.Id, round.Campaign.Id), round.Id, left);
        _ = transaction.SortedSetAddAsync(DeadlinesKey, round.Id, round.Deadline.ToUnixTimeMilliseconds());
        await Answered(transaction.ExecuteAsync());
        Keep(round);
    }

    /// <summary>A copy for a Finish while Redis is away, dropped a minute after the deadline (auto-finish is long done by then).</summary>
    private void Keep(ActiveRound round)
    {
        if (!_copies.TryAdd(round.Id, round)) { _copies[round.Id] = round; return; }
        _dropCopies.Add(round.Id, round.Deadline + TimeSpan.FromMinutes(1));
    }

    /// <summary>
    /// The round to answer or finish. This node's copy when it has one (it started the round or took
    /// an answer of it; a phone stays on its node): what it holds that does not change (the draw, the
    /// deadline, the person) is all an answer needs, and the answer's script checks the rest in Redis
    /// (an answer given meanwhile on another node, a finish begun, the round gone), as a finish's
    /// claim re-reads every answer. One call to Redis an answer instead of two.
    /// </summary>
    public async Task<ActiveRound?> FindAsync(string roundId)
    {
        if (_copies.TryGetValue(roundId, out var held)) return held;
        return (await LoadAsync(roundId)).Round;
    }

    private static bool Unreachable(Exception e) => e is RedisException or TimeoutException;

    public async Task<ActiveRound?> CurrentAsync(long participantId, string campaignId, DateTimeOffset now)
    {
        if (await Answered(Db.StringGetAsync(CurrentKey(participantId, campaignId))) is not { HasValue: true } id) return null;
        var (round, finishing) = await LoadAsync(id!);
        return round is not null && !finishing && now < round.Deadline ? round : null;
    }

    private async Task<(ActiveRound? Round, bool Finishing)> LoadAsync(string roundId)
    {
        var fields = await Answered(Db.HashGetAllAsync(RoundKey(roundId)));
        var round = await RoundOfAsync(roundId, fields);
        return (round, fields.Any(f => f.Name == "x"));
    }

    /// <summary>The round as its hash holds it; null when it is gone, or when what it names (a campaign, a stage, a person) no longer exists.</summary>
    private async Task<ActiveRound?> RoundOfAsync(string roundId, HashEntry[] fields)
    {
        if (fields.FirstOrDefault(f => f.Name == "m") is not { Value.HasValue: true } m) return null;
        var definition = JsonSerializer.Deserialize<Definition>(m.Value.ToString(), Json)!;
        var campaign = _campaigns.Get(definition.Campaign);
        var stage = campaign?.Stage(definition.Stage);
        var participant = await _participants.GetAsync(definition.Participant);
        if (campaign is null || stage is null || participant is null) return null;
        var questions = new List<DrawnQuestion>(definition.Questions.Length);
        foreach (var q in definition.Questions)
        {
            if (!_questions.TryGetValue((q.Id, q.Version), out var stored))
            {
                stored = await _bank.GetVersionAsync(q.Id, q.Version) ?? throw new InvalidOperationException($"question {q.Id} v{q.Version} of round {roundId} is not in the store");
                _questions[(q.Id, q.Version)] = stored;
            }
            questions.Add(new DrawnQuestion(stored, q.Order));
        }
        var round = new ActiveRound
        {
            Id = roundId, Participant = participant, Campaign = campaign, Stage = stage, Scene = definition.Scene, Day = definition.Day,
            StartedAt = definition.StartedAt, Deadline = definition.Deadline, Questions = questions, AttemptsLeft = definition.AttemptsLeft,
            Answers = new GivenChoice?[questions.Count],
        };
        Refresh(round, fields);
        return round;
    }

    /// <summary>The answers, the last answer's time and the flag, as the hash holds them now.</summary>
    private static void Refresh(ActiveRound round, HashEntry[] fields)
    {
        foreach (var field in fields)
        {
            var name = field.Name.ToString();
            if (name == "l") round.LastAnswerAt = new DateTimeOffset((long)field.Value, TimeSpan.Zero);
            else if (name == "f") round.Flag = field.Value;
            else if (name.StartsWith('a') && int.TryParse(name.AsSpan(1), out var position) && position >= 0 && position < round.Answers.Length)
                round.Answers[position] = JsonSerializer.Deserialize<GivenChoice>(field.Value.ToString(), Json);
        }
    }

    private static long Ticks(DateTimeOffset instant) => instant.UtcTicks;

    public async Task<RecordedAnswer> AnswerAsync(ActiveRound round, int position, DateTimeOffset now, Func<DateTimeOffset, Evaluated> evaluate)
    {
        var last = round.LastAnswerAt;
        for (var tries = 0; tries < 10; tries++)
        {
            var (choice, flag) = evaluate(last);
            var reply = (RedisResult[])(await Answered(AnswerScript.EvaluateAsync(Db, new
            {
                round = (RedisKey)RoundKey(round.Id), field = $"a{position}", last = Ticks(last), answer = JsonSerializer.Serialize(choice, Json),
                now = Ticks(now), flag = flag ?? "",
            })))!;
            switch ((string?)reply[0])
            {
                case "recorded":
                    round.Answers[position] = choice;
                    round.LastAnswerAt = now;
                    round.Flag ??= flag;
                    Keep(round);
                    return new RecordedAnswer(choice, New: true, Finishing: false);
                case "given":
                    return new RecordedAnswer(JsonSerializer.Deserialize<GivenChoice>(reply[1].ToString(), Json), New: false, Finishing: false);
                case "moved":
                    // Another answer of the round came first (two taps at once): judge this one against it.
                    last = new DateTimeOffset((long)reply[1], TimeSpan.Zero);
                    continue;
                default: // finishing, or gone: finished meanwhile
                    return new RecordedAnswer(null, New: false, Finishing: true);
            }
        }
        throw new InvalidOperationException($"round {round.Id}: answers kept moving under answer {position}");
    }

    public Task<RoundResult?> FinishAsync(ActiveRound round, Func<ActiveRound, Task<RoundResult>> commit)
    {
        lock (_finishing)
        {
            if (_finishing.TryGetValue(round.Id, out var running)) return running;
            var run = RunFinishAsync(round, commit);
            _finishing[round.Id] = run;
            return run;
        }
    }

    private async Task<RoundResult?> RunFinishAsync(ActiveRound round, Func<ActiveRound, Task<RoundResult>> commit)
    {
        await Task.Yield(); // registered in _finishing before it can end
        try
        {
            RedisResult fields;
            try { fields = await Answered(FinishScript.EvaluateAsync(Db, new { round = (RedisKey)RoundKey(round.Id), node = _node })); }
            catch (Exception e) when (Unreachable(e) && _copies.TryGetValue(round.Id, out var copy))
            {
                // Redis away: the round as this node last saw it is committed (the store decides, once).
                return await commit(copy);
            }
            if (fields.IsNull) return null;
            var entries = (RedisResult[])fields!;
            var hash = new HashEntry[entries.Length / 2];
            for (var i = 0; i < hash.Length; i++) hash[i] = new HashEntry((string)entries[2 * i]!, (RedisValue)entries[2 * i + 1]);
            Refresh(round, hash);
            return await commit(round);
        }
        finally { _finishing.TryRemove(round.Id, out _); }
    }

    /// <summary>
    /// Gone from Redis at once: a repeated Finish, on any node, is answered from the store (the same
    /// reply); <paramref name="keep"/> is for memory that holds replies, which Redis does not.
    /// </summary>
    public async Task FinishedAsync(ActiveRound round, TimeSpan keep)
    {
        _copies.TryRemove(round.Id, out _);
        try { await ReleaseAsync(round); }
        catch (Exception e) when (Unreachable(e)) { _unreleased.Enqueue(round); }
    }

    /// <summary>The rounds committed while Redis was away leave it now (else they would seem in play until their deadline).</summary>
    public async Task ReleaseFinishedAsync()
    {
        while (_unreleased.TryPeek(out var round))
        {
            await ReleaseAsync(round);
            _unreleased.TryDequeue(out _);
        }
    }

    private async Task ReleaseAsync(ActiveRound round)
    {
        var batch = Db.CreateBatch();
        var removed = Task.WhenAll(
            batch.KeyDeleteAsync(RoundKey(round.Id)),
            batch.SortedSetRemoveAsync(DeadlinesKey, round.Id),
            ReleaseCurrentScript.EvaluateAsync(batch, new { current = (RedisKey)CurrentKey(round.Participant.Id, round.Campaign.Id), id = round.Id }));
        batch.Execute();
        await Answered(removed);
    }

    /// <summary>
    /// Rounds past their deadline, each claimed by one node at a time: a claim moves the round's
    /// deadline on by <paramref name="lease"/>, so if the claiming node dies before the round is
    /// finished (and removed), another node claims it again then.
    /// </summary>
    public async Task<string[]> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int count = 100)
    {
        var due = (RedisResult[])(await Answered(ClaimDueScript.EvaluateAsync(Db, new
        {
            deadlines = (RedisKey)DeadlinesKey, now = now.ToUnixTimeMilliseconds(), lease = (now + lease).ToUnixTimeMilliseconds(), count,
        })))!;
        return [.. due.Select(d => (string)d!)];
    }

    /// <summary>A round whose deadline passed and that is no longer in Redis (lost, or finished): off the deadline queue.</summary>
    public Task ForgetDeadlineAsync(string roundId) => Answered(Db.SortedSetRemoveAsync(DeadlinesKey, roundId));

    /// <summary>
    /// A call's reply. When the connection to Redis fails, StackExchange.Redis cancels the calls it
    /// had sent (TaskCanceledException, which a caller would take for its own cancellation): those
    /// become what they are, Redis unreachable, which the callers and the hub filter handle.
    /// </summary>
    private static async Task<T> Answered<T>(Task<T> call)
    {
        try { return await call; }
        catch (TaskCanceledException e) { throw new RedisConnectionException(ConnectionFailureType.SocketFailure, "Redis did not answer: the call was cancelled", e); }
    }

    private static async Task Answered(Task call)
    {
        try { await call; }
        catch (TaskCanceledException e) { throw new RedisConnectionException(ConnectionFailureType.SocketFailure, "Redis did not answer: the call was cancelled", e); }
    }

    public void Dispose()
    {
        _dropCopies.Dispose();
        _redis.Dispose();
    }
}
