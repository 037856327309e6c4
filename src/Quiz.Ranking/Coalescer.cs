namespace Quiz.Ranking;

/// <summary>
/// Turns concurrent calls into batched ones ("natural batching"): an item is sent at once when
/// fewer than <c>maxInFlight</c> batches are on their way, so a lone caller waits for nothing;
/// otherwise it queues, and the next batch to leave takes up to <c>maxBatch</c> queued items.
/// Under load, batches grow by themselves and Redis runs one script call per batch instead of one
/// per item: the per-call cost (command dispatch, the Lua call, the client's message and task) is
/// paid once a batch. Batches are taken and handed to <c>send</c> under one lock, so they reach
/// the (single, ordered) connection in the order the items arrived.
/// </summary>
/// <param name="send">Sends one batch and completes its items; must not throw (it reports failures through the items).</param>
sealed class Coalescer<T>(int maxBatch, int maxInFlight, Func<List<T>, Task> send)
{
    readonly Queue<T> queue = new();
    int inFlight;

    public void Add(T item)
    {
        lock (queue)
        {
            queue.Enqueue(item);
            if (inFlight >= maxInFlight) return; // a batch on its way takes it when it returns
            inFlight++;
        }
        _ = RunAsync();
    }

    /// <summary>Several items of one caller, queued at once so that they leave in one batch (up to <c>maxBatch</c>).</summary>
    public void AddAll(ReadOnlySpan<T> items)
    {
        lock (queue)
        {
            foreach (var item in items) queue.Enqueue(item);
            if (inFlight >= maxInFlight) return;
            inFlight++;
        }
        _ = RunAsync();
    }

    /// <summary>One sending slot: sends batches while items are queued, then frees the slot.</summary>
    async Task RunAsync()
    {
        while (true)
        {
            Task sent;
            lock (queue)
            {
                if (queue.Count == 0) { inFlight--; return; }
                var batch = new List<T>(Math.Min(queue.Count, maxBatch));
                while (batch.Count < maxBatch && queue.TryDequeue(out var item)) batch.Add(item);
                sent = send(batch);
            }
            await sent.ConfigureAwait(false);
        }
    }
}
