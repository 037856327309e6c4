namespace Quiz.Server.Hosting;

/// <summary>
/// Runs the server as <c>RunAsync</c> does (start, wait for SIGTERM or Ctrl+C, stop, dispose), with
/// the stop and the disposal bounded. A node asked to stop must exit within 30 s (a rolling deploy
/// kills it after that), and a hosted service that ignores its stop token holds the host for ever:
/// after a RabbitMQ bounce, MassTransit's bus (stopped by its hosted service, and again with no token
/// when the services are disposed) was caught still waiting for a channel 30 s after SIGTERM, in
/// <c>WaitForConnectionPipe</c> under <c>MassTransitHostedService.StopAsync</c>, although its own
/// <c>StopTimeout</c> is 15 s (<c>BusFaultTests</c>).
/// Nothing acknowledged is lost by not waiting: every acknowledged write is committed before its
/// reply. What the store writer may still hold then (the places kept just after a reply) is what a
/// node killed at that moment loses too, and docs/protocol.md says what a repeated Finish answers
/// then; without the bound the node would be killed by its deployer anyway.
/// </summary>
public static class BoundedRun
{
    /// <summary>How long the stop may take (a fraction of a second when all is well; the bus's own bound is 15 s).</summary>
    public static readonly TimeSpan StopBound = TimeSpan.FromSeconds(20);

    /// <summary>How long the services' disposal may take once the host has stopped (milliseconds when all is well).</summary>
    public static readonly TimeSpan DisposeBound = TimeSpan.FromSeconds(5);

    public static async Task RunBoundedAsync(this WebApplication app)
    {
        try { await app.StartAsync(); }
        catch
        {
            await WithinAsync(app.DisposeAsync().AsTask(), DisposeBound, "disposed");
            throw;
        }
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (app.Lifetime.ApplicationStopping.Register(() => stopping.TrySetResult()))
            await stopping.Task;
        await WithinAsync(app.StopAsync(), StopBound, "stopped");
        await WithinAsync(app.DisposeAsync().AsTask(), DisposeBound, "disposed");
    }

    private static async Task WithinAsync(Task step, TimeSpan bound, string what)
    {
        if (await Task.WhenAny(step, Task.Delay(bound)) == step)
        {
            await step;
            return;
        }
        // The loggers may be gone with the services: straight to the console.
        Console.Error.WriteLine($"The server was not {what} within {bound.TotalSeconds:F0} s (a service waiting on its broker?); exiting without waiting.");
    }
}
