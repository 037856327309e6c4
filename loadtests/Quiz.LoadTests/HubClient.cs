using Microsoft.AspNetCore.SignalR.Client;

namespace Quiz.LoadTests;

/// <summary>
/// A participant's hub connection as the quiz scenarios use it: calls with one argument, and
/// word when it closes. Two clients stand behind it (<c>--client</c>): <see cref="RawHub"/>, a
/// bare WebSocket speaking the hub protocol, as a phone's page does on the wire; and the .NET
/// <see cref="HubConnection"/>, which costs the generator more CPU on this machine's shared cores.
/// </summary>
public interface IHubClient : IAsyncDisposable
{
    Task<T> InvokeAsync<T>(string target, object argument, CancellationToken ct);

    /// <summary>Called once when the connection ends, with the error if it failed.</summary>
    event Func<Exception?, Task>? Closed;
}

/// <summary>The .NET SignalR client behind <see cref="IHubClient"/>; it pings by itself.</summary>
public sealed class HubConnectionClient(HubConnection hub) : IHubClient
{
    public Task StartAsync(CancellationToken ct) => hub.StartAsync(ct);

    public Task<T> InvokeAsync<T>(string target, object argument, CancellationToken ct) => hub.InvokeAsync<T>(target, argument, ct);

    public event Func<Exception?, Task>? Closed
    {
        add => hub.Closed += value;
        remove => hub.Closed -= value;
    }

    public ValueTask DisposeAsync() => hub.DisposeAsync();
}
