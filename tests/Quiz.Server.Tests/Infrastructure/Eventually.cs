namespace Quiz.Server.Tests.Infrastructure;

/// <summary>Waits for an effect that another node, a queue or a timer brings about, instead of sleeping.</summary>
public static class Eventually
{
    /// <summary>Reads until <paramref name="done"/> holds or <paramref name="within"/> has passed; returns the last value read, for the assertion.</summary>
    public static async Task<T> ReadAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline) return value;
            await Task.Delay(50);
        }
    }
}
