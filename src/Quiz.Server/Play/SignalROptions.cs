namespace Quiz.Server.Play;

/// <summary>Section "SignalR": how the hubs' pushes reach clients connected to other nodes.</summary>
public sealed record SignalROptions
{
    public const string Section = "SignalR";

    /// <summary>
    /// A StackExchange.Redis configuration string (e.g. <c>redis:6379</c>), as <c>Ranking:Redis</c>
    /// takes it: every push (a dashboard's "units changed", a round that finished by itself) goes
    /// through Redis to every node's clients. Empty: one node, whose pushes reach its own clients.
    /// </summary>
    public string? Redis { get; init; }

    /// <summary>The prefix of the backplane's channels, so they never meet another application's on a shared Redis.</summary>
    public const string ChannelPrefix = "quiz";

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Redis)) return;
        try { StackExchange.Redis.ConfigurationOptions.Parse(Redis); }
        catch (ArgumentException e) { throw new InvalidOperationException($"SignalR:Redis is not a Redis configuration string: {e.Message}", e); }
    }
}
