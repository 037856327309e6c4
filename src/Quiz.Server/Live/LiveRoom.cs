using System.Security.Cryptography;
using Quiz.Server.Questions;

namespace Quiz.Server.Live;

/// <summary>
/// One running session: its phase, the open question's answers and everyone's score, held by the
/// one node that runs it. Every change happens under one lock and only decides; the caller
/// (<see cref="LiveRooms"/>) writes to the store and pushes to phones outside it. Time is the
/// server's: an answer's moment is when it arrives here.
/// </summary>
public sealed class LiveRoom
{
    public sealed class Player(long id, string nickname, string? regionCode, string? regionName, long? participantId)
    {
        public long Id { get; } = id;
        public string Nickname { get; } = nickname;
        public string? RegionCode { get; } = regionCode;
        public string? RegionName { get; } = regionName;
        public long? ParticipantId { get; } = participantId;
        public string? RejoinKey { get; set; }
        public string RejoinHash { get; set; } = "";
        public string? ConnectionId { get; set; }
        public int Total { get; set; }
        public int Right { get; set; }
        public long ElapsedMs { get; set; }
        public int Place { get; set; } = 1;
        public LiveYou? Last { get; set; }
    }

    /// <summary>An answer to the open question, as it arrived.</summary>
    public sealed record Given(long PlayerId, int[] Choices, bool Correct, int Points, long ElapsedMs);

    private readonly object _gate = new();
    private readonly TimeProvider _clock;
    private readonly Dictionary<long, Player> _players = [];
    private readonly Dictionary<string, Player> _byRejoinHash = new(StringComparer.Ordinal);
    private readonly Dictionary<long, Player> _byParticipant = [];
    private readonly Dictionary<long, Given> _answers = [];
    private List<Player> _ranked = [];
    private long _nextPlayerId;

    public LiveRoom(LiveStore.SessionRow row, IReadOnlyList<StoredQuestion> questions, TimeProvider clock)
    {
        Row = row;
        Rules = row.Rules;
        Questions = questions;
        _clock = clock;
        var kinds = new List<(LiveRoundKind, int)>();
        for (var r = 0; r < Rules.Rounds.Count; r++)
            for (var q = 0; q < Rules.Rounds[r].Questions; q++) kinds.Add((Rules.Rounds[r].Kind, r + 1));
        KindAndRound = kinds;
        Phase = Enum.Parse<LivePhase>(row.Phase.Replace("-", ""), ignoreCase: true);
    }

    public LiveStore.SessionRow Row { get; }
    public LiveStore.Definition Rules { get; }
    public IReadOnlyList<StoredQuestion> Questions { get; }
    private IReadOnlyList<(LiveRoundKind Kind, int Round)> KindAndRound { get; }
    public string Id => Row.Id;
    /// <summary>This node's owner number for the session (<see cref="LiveStore.ClaimAsync"/>): every write of the room names it.</summary>
    public long Owner { get; set; }
    public LivePhase Phase { get; private set; }
    public int Index { get; private set; } = -1;
    public DateTimeOffset ShownAt { get; private set; }
    public DateTimeOffset Deadline { get; private set; }
    private TimeSpan _remaining;
    public bool Skipped { get; private set; }
    public long? BuzzWinner { get; private set; }
    public int[] Distribution { get; private set; } = [];
    /// <summary>The revealed buzz question's winner, as the reveal showed them.</summary>
    public LiveStanding? BuzzWinnerStanding { get; private set; }
    public IReadOnlyList<LiveStanding> Top { get; private set; } = [];
    public IReadOnlyList<LiveStanding> Podium { get; private set; } = [];
    /// <summary>Bumped by every change of phase or question, so a deadline timer set for an earlier one does nothing.</summary>
    public long Version { get; private set; }
    public ITimer? DeadlineTimer { get; set; }

    public int Audience { get { lock (_gate) return _players.Count; } }
    public int Answered { get { lock (_gate) return _answers.Count; } }
    private TimeSpan Limit => TimeSpan.FromSeconds(Rules.QuestionSeconds);
    private Question Current => Questions[Index].Question;

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');

    // ---- Players

    public Player? ByRejoinKey(string key) { lock (_gate) return _byRejoinHash.GetValueOrDefault(Hash(key)); }
    public Player? ByParticipant(long id) { lock (_gate) return _byParticipant.GetValueOrDefault(id); }

    /// <summary>A new player, numbered but not yet seated: <see cref="Seat"/> once the store has them.</summary>
    public Player NewPlayer(string nickname, string? regionCode, string? regionName, long? participantId)
    {
        lock (_gate)
        {
            var key = NewKey();
            return new Player(++_nextPlayerId, nickname, regionCode, regionName, participantId) { RejoinKey = key, RejoinHash = Hash(key) };
        }
    }

    public void Seat(Player player)
    {
        lock (_gate)
        {
            _players[player.Id] = player;
            _byRejoinHash[player.RejoinHash] = player;
            if (player.ParticipantId is { } id) _byParticipant[id] = player;
            _nextPlayerId = Math.Max(_nextPlayerId, player.Id);
            player.Place = PlaceFor(player.Total);
        }
    }

    public void Rekey(Player player, string key)
    {
        lock (_gate)
        {
            _byRejoinHash.Remove(player.RejoinHash);
            player.RejoinKey = key;
            player.RejoinHash = Hash(key);
            _byRejoinHash[player.RejoinHash] = player;
        }
    }

    public void Connected(Player player, string connectionId) { lock (_gate) player.ConnectionId = connectionId; }

    public void Disconnected(long playerId, string connectionId)
    {
        lock (_gate)
            if (_players.TryGetValue(playerId, out var player) && player.ConnectionId == connectionId) player.ConnectionId = null;
    }

    /// <summary>
    /// Every connected phone's result of the last revealed question (a phone seated since: none
    /// answered), in the first <paramref name="count"/> places of an array the caller hands back
    /// with <see cref="GiveBackResults"/>. For 10,000 phones a list of them is a large object
    /// (~260 KB), and large objects count towards a full collection: a reveal that made one set
    /// off a background gen-2 collection that ran through the next question's fan-out
    /// (BENCHMARKS.md, live sessions). The room keeps one array for its reveals; ArrayPool.Shared
    /// would not do, as it keeps a returned array for the thread that returned it, and a reveal
    /// runs on whichever pool thread the host's call came in on.
    /// </summary>
    public (string ConnectionId, LiveYou You)[] TakeResults(out int count)
    {
        lock (_gate)
        {
            var results = Interlocked.Exchange(ref _spareResults, null);
            if (results is null || results.Length < _players.Count) results = new (string, LiveYou)[_players.Count + _players.Count / 8];
            count = 0;
            foreach (var player in _players.Values)
                if (player.ConnectionId is not null) results[count++] = (player.ConnectionId, LastOf(player));
            return results;
        }
    }

    /// <summary>The array of <see cref="TakeResults"/>, cleared, for the next reveal.</summary>
    public void GiveBackResults((string ConnectionId, LiveYou You)[] results)
    {
        Array.Clear(results);
        _spareResults = results;
    }

    private (string, LiveYou)[]? _spareResults;

    public LiveYou YouOf(Player player)
    {
        lock (_gate) return LastOf(player);
    }

    private LiveYou LastOf(Player player) => player.Last ?? new LiveYou(Index, false, false, 0, player.Total, player.Place, _players.Count);

    // ---- The question in play

    public LiveQuestion? OpenQuestion()
    {
        lock (_gate) return Phase == LivePhase.Open ? QuestionMessage() : null;
    }

    private LiveQuestion QuestionMessage()
    {
        var now = _clock.GetUtcNow();
        var (kind, round) = KindAndRound[Index];
        return new LiveQuestion(Id, Index, Questions.Count, round, kind, Current.Type, Current.Stem, Current.Options, Deadline,
            (long)Math.Max(0, (Deadline - now).TotalMilliseconds), now);
    }

    public LiveHostQuestion? HostQuestion()
    {
        lock (_gate)
        {
            if (Index < 0 || Index >= Questions.Count) return null;
            var now = _clock.GetUtcNow();
            var (kind, round) = KindAndRound[Index];
            long? remaining = Phase switch
            {
                LivePhase.Open => (long)Math.Max(0, (Deadline - now).TotalMilliseconds),
                LivePhase.Paused => (long)_remaining.TotalMilliseconds,
                _ => null,
            };
            return new LiveHostQuestion(Index, Questions.Count, round, kind, Current.Type, Current.Stem, Current.Options, Key(),
                Current.Explanation, Phase is LivePhase.Open ? Deadline : null, remaining, now);
        }
    }

    private int[] Key() => [.. CurrentKey];

    private (int Index, int[] Options) _key = (-1, []);

    /// <summary>The current question's right options, in order: worked out once a question, not once an answer.</summary>
    private int[] CurrentKey
    {
        get
        {
            if (_key.Index != Index) _key = (Index, [.. Current.AnswerIndexes.Order()]);
            return _key.Options;
        }
    }

    /// <summary>
    /// The choices in order, or null when they are none, repeat an option or name one the question
    /// lacks. Written out rather than with LINQ: all 10,000 phones of a room answer within seconds,
    /// and LINQ's iterators and sets were a tenth of what a question allocated.
    /// </summary>
    private static int[]? Sorted(int[]? choices, int options)
    {
        if (choices is null || choices.Length == 0 || choices.Length > options) return null;
        var sorted = (int[])choices.Clone();
        Array.Sort(sorted);
        for (var i = 0; i < sorted.Length; i++)
            if (sorted[i] < 0 || sorted[i] >= options || i > 0 && sorted[i] == sorted[i - 1]) return null;
        return sorted;
    }

    /// <summary>Why <paramref name="wanted"/> is not allowed now, or null.</summary>
    private string? Refuse(params LivePhase[] wanted) =>
        wanted.Contains(Phase) ? null : $"not allowed while the session is {LiveStore.Name(Phase)}";

    public (string? Error, LiveQuestion? Shown) Show()
    {
        lock (_gate)
        {
            if (Refuse(LivePhase.Lobby, LivePhase.Revealed) is { } error) return (error, null);
            if (Index + 1 >= Questions.Count) return ("every question has been shown: end the session", null);
            Index++;
            Phase = LivePhase.Open;
            Version++;
            Skipped = false;
            BuzzWinner = null;
            Distribution = [];
            // One dictionary for every question, sized for the room: growing it while every phone
            // answers copied it a dozen times, and a new one a question is a large-object
            // allocation at the very moment the question goes out.
            _answers.Clear();
            _answers.EnsureCapacity(_players.Count);
            ShownAt = _clock.GetUtcNow();
            Deadline = ShownAt + Limit;
            return (null, QuestionMessage());
        }
    }

    public (string? Error, LivePaused? Paused) Pause()
    {
        lock (_gate)
        {
            if (Refuse(LivePhase.Open) is { } error) return (error, null);
            _remaining = Deadline - _clock.GetUtcNow();
            if (_remaining < TimeSpan.Zero) _remaining = TimeSpan.Zero;
            Phase = LivePhase.Paused;
            Version++;
            return (null, new LivePaused(Id, Index, (long)_remaining.TotalMilliseconds));
        }
    }

    public (string? Error, LiveQuestion? Resumed) Resume()
    {
        lock (_gate)
        {
            if (Refuse(LivePhase.Paused) is { } error) return (error, null);
            Deadline = _clock.GetUtcNow() + _remaining;
            Phase = LivePhase.Open;
            Version++;
            return (null, QuestionMessage());
        }
    }

    /// <param name="version">From a deadline timer: close only if nothing changed since it was set.</param>
    public (string? Error, LiveClosed? Closed) Close(long? version = null)
    {
        lock (_gate)
        {
            if (version is { } v && v != Version) return ("the question has moved on", null);
            if (Refuse(LivePhase.Open, LivePhase.Paused) is { } error) return (error, null);
            Phase = LivePhase.Closed;
            Version++;
            return (null, new LiveClosed(Id, Index));
        }
    }

    /// <summary>An answer, judged on arrival: one a player and question; a buzz question closes on its first right answer.</summary>
    public (string? Code, string? Error, LiveAnswerAck? Ack, LiveClosed? Closed) Answer(long playerId, int index, int[]? choices)
    {
        lock (_gate)
        {
            if (!_players.ContainsKey(playerId)) return (LiveErrors.NotJoined, "join the session first", null, null);
            if (index < 0 || index > Index || index >= Questions.Count) return (LiveErrors.InvalidRequest, "no such question", null, null);
            if (index < Index || Phase != LivePhase.Open) return (LiveErrors.QuestionClosed, "this question is closed", null, null);
            var now = _clock.GetUtcNow();
            if (now >= Deadline) return (LiveErrors.QuestionClosed, "this question is closed", null, null);
            var question = Current;
            if (Sorted(choices, question.Options.Count) is not { } sorted || (question.Type != QuestionTypes.Multiple && sorted.Length != 1))
                return (LiveErrors.InvalidRequest, "choose one option (several for a multiple-choice question) by its position", null, null);
            if (_answers.ContainsKey(playerId)) return (LiveErrors.AlreadyAnswered, "this question is already answered", null, null);

            var elapsed = Limit - (Deadline - now);
            var correct = sorted.AsSpan().SequenceEqual(CurrentKey);
            var buzz = KindAndRound[Index].Kind == LiveRoundKind.Buzz;
            var points = !correct ? 0 : buzz ? Rules.Speed.Points : Rules.Speed.For(elapsed, Limit);
            var given = new Given(playerId, sorted, correct, points, (long)elapsed.TotalMilliseconds);
            _answers[playerId] = given;
            LiveClosed? closed = null;
            if (buzz && correct)
            {
                BuzzWinner = playerId;
                Phase = LivePhase.Closed;
                Version++;
                closed = new LiveClosed(Id, Index);
            }
            return (null, null, new LiveAnswerAck(index, true, given.ElapsedMs), closed);
        }
    }

    /// <summary>What a reveal decided: the message for everyone, and what the store keeps.</summary>
    public sealed record Revealed(LiveReveal Message, LiveStore.QuestionRow Question, IReadOnlyList<LiveStore.AnswerRow> Answers);

    public (string? Error, Revealed? Result) Reveal(bool skip)
    {
        lock (_gate)
        {
            if ((skip ? Refuse(LivePhase.Open, LivePhase.Paused, LivePhase.Closed) : Refuse(LivePhase.Closed)) is { } error) return (error, null);
            var question = Current;
            Skipped = skip;
            Phase = LivePhase.Revealed;
            Version++;
            var answers = skip ? [] : _answers.Values.ToList();
            Distribution = new int[question.Options.Count];
            foreach (var answer in answers)
            {
                foreach (var choice in answer.Choices) Distribution[choice]++;
                var player = _players[answer.PlayerId];
                player.Total += answer.Points;
                player.ElapsedMs += answer.ElapsedMs;
                if (answer.Correct) player.Right++;
            }
            Rank();
            foreach (var player in _players.Values)
            {
                var mine = answers.Count == 0 ? null : _answers.GetValueOrDefault(player.Id);
                player.Last = new LiveYou(Index, mine is not null, mine?.Correct ?? false, mine?.Points ?? 0, player.Total, player.Place, _players.Count);
            }
            var winner = BuzzWinnerStanding = BuzzWinner is { } id && !skip ? Standing(_players[id]) : null;
            var message = new LiveReveal(Id, Index, skip, Key(), question.Explanation, Distribution, Top, winner);
            var row = new LiveStore.QuestionRow(Index, question.Id, Questions[Index].Version, LiveStore.Name(KindAndRound[Index].Kind), skip ? 1 : 0,
                ShownAt.ToString("O"), skip ? null : BuzzWinner);
            var rows = answers.Select(a => new LiveStore.AnswerRow(Index, a.PlayerId, string.Join(',', a.Choices), a.Correct ? 1 : 0, a.Points, a.ElapsedMs)).ToList();
            return (null, new Revealed(message, row, rows));
        }
    }

    public (string? Error, LiveEnded? Ended) End()
    {
        lock (_gate)
        {
            if (Phase == LivePhase.Ended) return ($"not allowed while the session is {LiveStore.Name(Phase)}", null);
            Phase = LivePhase.Ended;
            Version++;
            Rank();
            Podium = [.. Top.Take(3)];
            return (null, new LiveEnded(Id, Podium, Top));
        }
    }

    /// <summary>
    /// Places over the whole audience: by points, ties sharing a place (1, 2, 2, 4); within a tie
    /// the top list shows the quicker first.
    /// </summary>
    private void Rank()
    {
        _ranked = [.. _players.Values.OrderByDescending(p => p.Total).ThenBy(p => p.ElapsedMs).ThenBy(p => p.Id)];
        for (var i = 0; i < _ranked.Count; i++)
            _ranked[i].Place = i > 0 && _ranked[i].Total == _ranked[i - 1].Total ? _ranked[i - 1].Place : i + 1;
        Top = [.. _ranked.Take(10).Select(Standing)];
    }

    /// <summary>A newcomer's place among the ranked: after everyone with more points.</summary>
    private int PlaceFor(int total) => _ranked.Count(p => p.Total > total) + 1;

    private static LiveStanding Standing(Player p) => new(p.Place, p.Nickname, p.RegionName, p.Total, p.Right);

    /// <summary>A session taken over from the store: its players and revealed questions, then the host shows the next one.</summary>
    /// <param name="keepPhase">A copy only to show (lists, the code lookup) keeps the phase the store names; a room
    /// taken over to run resumes after its last revealed question (answers to an open one were lost with its node).</param>
    public void Restore(IReadOnlyList<Player> players, IReadOnlyList<LiveStore.QuestionRow> questions, IReadOnlyList<LiveStore.AnswerRow> answers,
        bool keepPhase = false)
    {
        lock (_gate)
        {
            foreach (var p in players) Seat(p);
            foreach (var a in answers)
                if (_players.TryGetValue(a.PlayerId, out var p))
                {
                    p.Total += (int)a.Points;
                    p.ElapsedMs += a.ElapsedMs;
                    if (a.Correct == 1) p.Right++;
                }
            Index = questions.Count == 0 ? -1 : (int)questions.Max(q => q.QuestionIndex);
            if (Phase != LivePhase.Ended && !keepPhase) Phase = Index < 0 ? LivePhase.Lobby : LivePhase.Revealed;
            Rank();
            if (Phase == LivePhase.Ended) Podium = [.. Top.Take(3)];
        }
    }
}
