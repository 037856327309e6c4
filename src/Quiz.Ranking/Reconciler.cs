namespace Quiz.Ranking;

/// <summary>
/// Compares an engine's live boards with a recomputation from the store (a
/// <see cref="CampaignBoards"/> model replayed from every round). Memory: the model holds the
/// campaign's boards once; the live side is read in batches. Differences in rounds still in
/// flight while it runs are reported too, so run it when the campaign is quiet or read the
/// differences with that in mind.
/// </summary>
static class Reconciler
{
    public sealed record Live(
        Func<BoardKey, Task<long>> Size,
        Func<BoardKey, IReadOnlyList<long>, Task<long?[]>> Values);

    const int Batch = 1000, MaxListed = 100;

    public static async Task<ReconcileReport> CompareAsync(CampaignBoards model, Live live, CancellationToken cancellationToken)
    {
        var differences = new List<string>();
        long count = 0, boards = 0, members = 0;
        void Differ(string what)
        {
            count++;
            if (differences.Count < MaxListed) differences.Add(what);
        }

        foreach (var (key, board) in model.AllBoards())
        {
            cancellationToken.ThrowIfCancellationRequested();
            boards++;
            var liveSize = await live.Size(key);
            if (liveSize != board.Count) Differ($"{key}: {liveSize} members live, {board.Count} recomputed");
            foreach (var chunk in board.All().Chunk(Batch))
            {
                var values = await live.Values(key, chunk.Select(m => m.ParticipantId).ToList());
                for (var i = 0; i < chunk.Length; i++)
                {
                    members++;
                    if (values[i] != chunk[i].Value)
                        Differ($"{key}: participant {chunk[i].ParticipantId} has {values[i]?.ToString() ?? "no value"} live, {chunk[i].Value} recomputed");
                }
            }
        }

        return new ReconcileReport(model.CampaignId, boards, members, count, differences);
    }
}
