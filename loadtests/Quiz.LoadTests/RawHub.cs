using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Quiz.LoadTests;

/// <summary>
/// A hub connection written from the SignalR JSON hub protocol alone (docs/live.md, section 1):
/// a bare WebSocket, the handshake, invocations with ids, completions, pings. The live scenario's
/// 10,000 phones use it because the generator shares this machine's two cores with the server it
/// measures: the .NET <c>HubConnection</c> keeps two pipes, a timer and several loops a
/// connection and binds every message to a type, and with 10,000 of them the generator took 1.7 ×
/// the server's CPU while a question went out (perf, BENCHMARKS.md). Here a phone is one socket,
/// one receive loop and one buffer; what arrives is read with one <see cref="JsonDocument"/>.
/// </summary>
public sealed class RawHub : IHubClient
{
    private const byte Separator = 0x1e;
    private static readonly byte[] Handshake = Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e");
    private static readonly byte[] Ping = Encoding.UTF8.GetBytes("{\"type\":6}\u001e");
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ClientWebSocket _socket;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _calls = new();
    private readonly CancellationTokenSource _closed = new();
    private Task _receiving = Task.CompletedTask;
    private int _nextId;
    private long _lastSent = Stopwatch.GetTimestamp();

    private RawHub(ClientWebSocket socket) => _socket = socket;

    /// <summary>Each invocation the server pushes: its target and first argument (valid only during the call).</summary>
    public Action<string, JsonElement>? Pushed { get; set; }

    /// <summary>Once, when the receive loop ends: the server closed, the socket failed, or this client was disposed.</summary>
    public event Func<Exception?, Task>? Closed;

    public static async Task<RawHub> ConnectAsync(ClientWebSocket socket, CancellationToken ct)
    {
        var hub = new RawHub(socket);
        await hub.SendAsync(Handshake, ct);
        hub._receiving = hub.ReceiveAsync();
        return hub;
    }

    /// <summary>Calls a hub method with one argument and returns its result, or throws <see cref="RawHubException"/> with the server's error.</summary>
    public async Task<T> InvokeAsync<T>(string target, object argument, CancellationToken ct)
    {
        var id = Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var call = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _calls[id] = call;
        try
        {
            var writer = new ArrayBufferWriter<byte>(256);
            using (var json = new Utf8JsonWriter(writer))
            {
                json.WriteStartObject();
                json.WriteNumber("type", 1);
                json.WriteString("invocationId", id);
                json.WriteString("target", target);
                json.WritePropertyName("arguments");
                json.WriteStartArray();
                JsonSerializer.Serialize(json, argument, argument.GetType(), Json);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            writer.Write([Separator]);
            await SendAsync(writer.WrittenMemory, ct);
            var result = await call.Task.WaitAsync(ct);
            return result.Deserialize<T>(Json)!;
        }
        finally { _calls.TryRemove(id, out _); }
    }

    /// <summary>
    /// Until <paramref name="ct"/> ends, every 5 s, a ping from each of <paramref name="hubs"/> (read
    /// anew each time) that sent nothing for 15 s, as HubConnection pings by itself: the server
    /// drops a client silent for 30 s.
    /// </summary>
    public static async Task PingIdleAsync(Func<IEnumerable<RawHub>> hubs, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(5), ct);
                foreach (var hub in hubs())
                    _ = hub.KeepAliveAsync(TimeSpan.FromSeconds(15), ct).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>A ping when nothing was sent for this long: the server drops a client silent for 30 s.</summary>
    private Task KeepAliveAsync(TimeSpan idle, CancellationToken ct) =>
        Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastSent)) < idle || _socket.State != WebSocketState.Open ? Task.CompletedTask : SendAsync(Ping, ct);

    private async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        await _sending.WaitAsync(ct);
        try { await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, ct); }
        finally { _sending.Release(); }
        Interlocked.Exchange(ref _lastSent, Stopwatch.GetTimestamp());
    }

    private async Task ReceiveAsync()
    {
        // On the pinned-object heap: a receive pins its buffer while it waits, and 10,000 waiting
        // receives pinned in the young generations make every collection of the generator slower.
        var buffer = GC.AllocateUninitializedArray<byte>(4096, pinned: true);
        var filled = 0;
        var handshaken = false;
        Exception? failure = null;
        try
        {
            while (!_closed.IsCancellationRequested)
            {
                if (filled == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                var received = await _socket.ReceiveAsync(buffer.AsMemory(filled), _closed.Token);
                if (received.MessageType == WebSocketMessageType.Close) break;
                filled += received.Count;
                if (!received.EndOfMessage) continue;
                // One frame may carry several records, each ended by the separator.
                var start = 0;
                for (var i = 0; i < filled; i++)
                {
                    if (buffer[i] != Separator) continue;
                    var record = buffer.AsMemory(start, i - start);
                    start = i + 1;
                    if (!handshaken) { handshaken = true; Handshaken(record); continue; }
                    Dispatch(record);
                }
                // A record cut across frames waits for the rest.
                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                filled -= start;
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e)
        {
            failure = e; // the socket failed, or the server sent what is not the protocol
        }
        finally
        {
            foreach (var call in _calls.Values) call.TrySetException(new RawHubException("the connection closed"));
        }
        if (Closed is { } closed) await closed(failure);
    }

    private void Handshaken(ReadOnlyMemory<byte> record)
    {
        using var reply = JsonDocument.Parse(record);
        if (reply.RootElement.TryGetProperty("error", out var error)) throw new RawHubException($"handshake refused: {error.GetString()}");
    }

    private void Dispatch(ReadOnlyMemory<byte> record)
    {
        using var message = JsonDocument.Parse(record);
        var root = message.RootElement;
        switch (root.GetProperty("type").GetInt32())
        {
            case 1 when root.GetProperty("arguments") is { ValueKind: JsonValueKind.Array } arguments && arguments.GetArrayLength() > 0:
                Pushed?.Invoke(root.GetProperty("target").GetString()!, arguments[0]);
                break;
            case 3 when root.TryGetProperty("invocationId", out var id) && _calls.TryGetValue(id.GetString()!, out var call):
                if (root.TryGetProperty("error", out var error)) call.TrySetException(new RawHubException(error.GetString() ?? "error"));
                else call.TrySetResult(root.TryGetProperty("result", out var result) ? result.Clone() : default);
                break;
            case 7:
                _closed.Cancel();
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is WebSocketException or TimeoutException or OperationCanceledException) { }
        _closed.Cancel();
        await _receiving.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
        _socket.Dispose();
        _closed.Dispose();
    }
}

/// <summary>A hub call the server refused, with its "code: text" message (docs/live.md, section 5).</summary>
public sealed class RawHubException(string message) : Exception(message);
