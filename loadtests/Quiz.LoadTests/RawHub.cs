using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Quiz.LoadTests;

/// <summary>
/// A hub connection written from the WebSocket protocol (RFC 6455) and the SignalR JSON hub
/// protocol alone (docs/live.md, section 1): a socket, the upgrade, the handshake, invocations with
/// ids, completions, pings. The phones of every scenario use it because the generator shares this
/// machine's two cores with the server it measures: the .NET <c>HubConnection</c> keeps two pipes,
/// a timer and several loops a connection (1.7 × the server's CPU while a live question went out),
/// and even a <c>ClientWebSocket</c> with a receive pending a phone cost ~16–20 µs of CPU a frame
/// (BENCHMARKS.md). Here the socket is non-blocking and read by one of <see cref="Epoll"/>'s threads
/// when it has something; a frame is read in place and its record scanned by a
/// <see cref="Utf8JsonReader"/>, without a document. What the server pushes reaches
/// <see cref="Pushed"/> on that thread: handlers must be quick.
/// </summary>
public sealed class RawHub : IHubClient
{
    /// <summary>A pushed invocation: its target and the JSON of its first argument, valid only during the call.</summary>
    public delegate void PushHandler(ReadOnlySpan<byte> target, ReadOnlySpan<byte> argument);

    private enum State { Connecting, Upgrading, Open, Closed }

    private const byte Separator = 0x1e;
    private const int OpText = 0x1, OpClose = 0x8, OpPing = 0x9, OpPong = 0xA;
    private const int MaxFrame = 16 << 20;
    private static readonly byte[] NormalClosure = [0x03, 0xe8]; // 1000
    private static readonly byte[] Handshake = Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e");
    private static readonly byte[] Ping = Encoding.UTF8.GetBytes("{\"type\":6}\u001e");
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Socket _socket;
    private readonly byte[] _upgrade;
    private readonly string _accept;
    // Sends come from callers' threads and from the loop's thread (pongs, the close's reply).
    private readonly Lock _sending = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<byte[]?>> _calls = new();
    private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ulong _id;
    private volatile State _state;
    private bool _closeSent;
    // Read by the loop's thread only: the bytes received and not yet taken, the records not yet ended.
    private byte[] _in = new byte[2048];
    private int _filled;
    private byte[] _records = [];
    private int _recordsLength;
    private bool _handshaken;
    private int _nextId;
    private long _lastSent = Stopwatch.GetTimestamp();

    private RawHub(Socket socket, byte[] upgrade, string accept)
    {
        _socket = socket;
        _upgrade = upgrade;
        _accept = accept;
    }

    /// <summary>Each invocation the server pushes, on the loop's thread.</summary>
    public PushHandler? Pushed { get; set; }

    /// <summary>Once, when the connection ends: the server closed, the socket failed, or this client was disposed.</summary>
    public event Func<Exception?, Task>? Closed;

    /// <summary>
    /// Connects to <paramref name="server"/> (from <paramref name="source"/> when given), upgrades
    /// <paramref name="pathAndQuery"/> to a WebSocket with the bearer <paramref name="token"/>, and
    /// sends the hub handshake (a refusal ends the connection).
    /// </summary>
    public static async Task<RawHub> ConnectAsync(IPEndPoint server, IPAddress? source, string host, string pathAndQuery, string? token, CancellationToken ct)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        var upgrade = Encoding.ASCII.GetBytes(
            $"GET {pathAndQuery} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: Quiz.LoadTests\r\n" +
            (token is null ? "" : $"Authorization: Bearer {token}\r\n") + "\r\n");
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, Blocking = false };
        var hub = new RawHub(socket, upgrade, accept);
        try
        {
            if (source is not null) socket.Bind(new IPEndPoint(source, 0));
            try { socket.Connect(server); }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress) { }
            // Level-triggered: writable once connected (then watched for reads only).
            hub._id = Epoll.Reserve(hub);
            Epoll.Add(socket, hub._id, Epoll.Out | Epoll.In | Epoll.RdHup);
            await hub._opened.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
            hub.Send(Handshake);
            return hub;
        }
        catch (Exception e)
        {
            hub.End(e, raiseClosed: false);
            throw;
        }
    }

    /// <summary>Calls a hub method with one argument and returns its result, or throws <see cref="RawHubException"/> with the server's error.</summary>
    public async Task<T> InvokeAsync<T>(string target, object argument, CancellationToken ct)
    {
        var id = Interlocked.Increment(ref _nextId);
        var call = new TaskCompletionSource<byte[]?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _calls[id] = call;
        try
        {
            var writer = new ArrayBufferWriter<byte>(256);
            using (var json = new Utf8JsonWriter(writer))
            {
                json.WriteStartObject();
                json.WriteNumber("type", 1);
                json.WriteString("invocationId", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                json.WriteString("target", target);
                json.WritePropertyName("arguments");
                json.WriteStartArray();
                JsonSerializer.Serialize(json, argument, argument.GetType(), Json);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            writer.Write([Separator]);
            // The connection may have ended before the call was listed: then nothing would complete it.
            if (_state == State.Closed) throw new RawHubException("the connection closed");
            Send(writer.WrittenSpan);
            var result = await call.Task.WaitAsync(ct);
            return result is null ? default! : JsonSerializer.Deserialize<T>(result, Json)!;
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
                {
                    if (hub._state != State.Open || Stopwatch.GetElapsedTime(Interlocked.Read(ref hub._lastSent)) < TimeSpan.FromSeconds(15)) continue;
                    try { hub.Send(Ping); }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException or RawHubException or TimeoutException) { }
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>The loop's word that the socket has something: connected, readable, or ended.</summary>
    internal void OnEvents(uint events)
    {
        try
        {
            if (_state == State.Connecting)
            {
                if ((events & (Epoll.Out | Epoll.Err | Epoll.Hup)) == 0) return;
                var error = (int)_socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
                if (error != 0) throw new SocketException(error);
                _state = State.Upgrading;
                Epoll.Change(_socket, _id, Epoll.In | Epoll.RdHup);
                lock (_sending) SendAll(_upgrade);
                return;
            }
            if (_state != State.Closed) Read();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            End(e); // the socket failed, or the server sent what is not the protocol
        }
    }

    /// <summary>One read (the loop calls again while more is waiting), then every whole frame in what is held.</summary>
    private void Read()
    {
        if (_filled == _in.Length) Array.Resize(ref _in, _in.Length * 2);
        var n = _socket.Receive(_in.AsSpan(_filled), SocketFlags.None, out var error);
        if (error == SocketError.WouldBlock) return;
        if (error != SocketError.Success) throw new SocketException((int)error);
        if (n == 0) throw new IOException("the server ended the connection without a close frame");
        _filled += n;
        var taken = 0;
        if (_state == State.Upgrading) taken = Upgraded();
        if (_state == State.Open) taken = Frames(taken);
        if (taken == 0) return;
        Buffer.BlockCopy(_in, taken, _in, 0, _filled - taken);
        _filled -= taken;
    }

    /// <summary>The server's answer to the upgrade, once whole: the bytes it took, or 0 until then.</summary>
    private int Upgraded()
    {
        var held = _in.AsSpan(0, _filled);
        var end = held.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            if (_filled > 16 << 10) throw new IOException("the upgrade's answer has no end");
            return 0;
        }
        var head = Encoding.ASCII.GetString(held[..end]);
        var lines = head.Split("\r\n");
        var status = lines[0].Split(' ');
        if (status.Length < 2 || !int.TryParse(status[1], out var code)) throw new IOException($"not an HTTP answer: {lines[0]}");
        if (code != 101) throw new HttpStatusException((HttpStatusCode)code, lines[0]);
        var accept = lines.Skip(1).Select(l => l.Split(':', 2)).FirstOrDefault(p => p.Length == 2 && p[0].Trim().Equals("Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase));
        if (accept is null || accept[1].Trim() != _accept) throw new IOException("the upgrade's Sec-WebSocket-Accept does not match its key");
        _state = State.Open;
        _opened.TrySetResult();
        return end + 4;
    }

    /// <summary>Every whole frame from <paramref name="at"/> on: returns where the first not whole one starts.</summary>
    private int Frames(int at)
    {
        while (_state == State.Open)
        {
            var held = _filled - at;
            if (held < 2) break;
            int first = _in[at], second = _in[at + 1];
            if ((second & 0x80) != 0) throw new IOException("a server frame was masked");
            long length = second & 0x7f;
            var header = 2;
            if (length == 126)
            {
                if (held < 4) break;
                length = BinaryPrimitives.ReadUInt16BigEndian(_in.AsSpan(at + 2));
                header = 4;
            }
            else if (length == 127)
            {
                if (held < 10) break;
                length = (long)BinaryPrimitives.ReadUInt64BigEndian(_in.AsSpan(at + 2));
                header = 10;
            }
            if (length > MaxFrame) throw new IOException($"a frame of {length} bytes");
            if (held < header + length) break; // the rest comes; Read grows the buffer while it is full
            var payload = _in.AsSpan(at + header, (int)length);
            at += header + (int)length;
            switch (first & 0x0f)
            {
                case 0 or OpText or 0x2:
                    Data(payload);
                    break;
                case OpClose:
                    SendClose(payload.Length >= 2 ? payload[..2] : []); // the server's status, echoed
                    End(null);
                    break;
                case OpPing:
                    lock (_sending) SendFrame(OpPong, payload);
                    break;
                case OpPong:
                    break;
                default:
                    throw new IOException($"a frame with opcode {first & 0x0f}");
            }
        }
        return at;
    }

    /// <summary>
    /// A data frame's payload: each record ended by the separator is handled; a record cut across
    /// frames waits for the rest (kept apart, so the frame is read in place when none waits).
    /// </summary>
    private void Data(ReadOnlySpan<byte> payload)
    {
        if (_recordsLength == 0)
        {
            Keep(Records(payload));
            return;
        }
        Keep(payload);
        var rest = Records(_records.AsSpan(0, _recordsLength));
        rest.CopyTo(_records);
        _recordsLength = rest.Length;

        void Keep(ReadOnlySpan<byte> bytes)
        {
            if (bytes.IsEmpty) return;
            if (_recordsLength + bytes.Length > _records.Length) Array.Resize(ref _records, Math.Max(1024, (_recordsLength + bytes.Length) * 2));
            bytes.CopyTo(_records.AsSpan(_recordsLength));
            _recordsLength += bytes.Length;
        }
    }

    private ReadOnlySpan<byte> Records(ReadOnlySpan<byte> bytes)
    {
        int end;
        while (_state == State.Open && (end = bytes.IndexOf(Separator)) >= 0)
        {
            Record(bytes[..end]);
            bytes = bytes[(end + 1)..];
        }
        return bytes;
    }

    /// <summary>One hub message, by the fields this client uses; the first is the handshake's answer.</summary>
    private void Record(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new IOException("a hub message that is not a JSON object");
        int type = -1, id = -1;
        ReadOnlySpan<byte> target = default, argument = default, result = default;
        var hasResult = false;
        string? error = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8)) { reader.Read(); type = reader.GetInt32(); }
            else if (reader.ValueTextEquals("target"u8)) { reader.Read(); target = reader.ValueSpan; }
            else if (reader.ValueTextEquals("invocationId"u8)) { reader.Read(); Utf8Parser.TryParse(reader.ValueSpan, out id, out _); }
            else if (reader.ValueTextEquals("error"u8)) { reader.Read(); error = reader.GetString(); }
            else if (reader.ValueTextEquals("arguments"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray) throw new IOException("arguments that are not an array");
                if (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    argument = json[Extent(ref reader)];
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("result"u8)) { reader.Read(); result = json[Extent(ref reader)]; hasResult = true; }
            else { reader.Read(); reader.Skip(); }
        }
        if (!_handshaken)
        {
            _handshaken = true;
            if (error is not null) throw new RawHubException($"handshake refused: {error}");
            return;
        }
        switch (type)
        {
            case 1 when !argument.IsEmpty:
                Pushed?.Invoke(target, argument);
                break;
            case 3 when _calls.TryGetValue(id, out var call):
                if (error is not null) call.TrySetException(new RawHubException(error));
                else call.TrySetResult(hasResult ? result.ToArray() : null);
                break;
            case 7:
                // The server closes; its WebSocket close follows.
                SendClose(NormalClosure);
                break;
        }

        // Where the value the reader is on starts and ends, which it leaves read.
        static Range Extent(ref Utf8JsonReader reader)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            return start..(int)reader.BytesConsumed;
        }
    }

    /// <summary>
    /// The int at <paramref name="path"/> (property names from the top object down) in
    /// <paramref name="json"/>, or null: for a <see cref="Pushed"/> handler, which reads what it
    /// needs without a document.
    /// </summary>
    public static int? ReadInt(ReadOnlySpan<byte> json, params ReadOnlySpan<string> path)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read()) return null;
        foreach (var name in path)
        {
            if (reader.TokenType != JsonTokenType.StartObject) return null;
            var found = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(name)) { reader.Read(); found = true; break; }
                reader.Read();
                reader.Skip();
            }
            if (!found) return null;
        }
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) ? value : null;
    }

    /// <summary>A text frame carrying <paramref name="records"/>, from the caller's thread.</summary>
    private void Send(ReadOnlySpan<byte> records)
    {
        lock (_sending)
        {
            if (_state != State.Open || _closeSent) throw new RawHubException("the connection closed");
            SendFrame(OpText, records);
        }
        Interlocked.Exchange(ref _lastSent, Stopwatch.GetTimestamp());
    }

    /// <summary>One whole frame, masked as a client's must be; the caller holds <see cref="_sending"/>.</summary>
    private void SendFrame(int opcode, ReadOnlySpan<byte> payload)
    {
        var header = payload.Length < 126 ? 2 : payload.Length <= ushort.MaxValue ? 4 : 10;
        var size = header + 4 + payload.Length;
        var rented = size > 1024 ? ArrayPool<byte>.Shared.Rent(size) : null;
        var frame = rented is null ? stackalloc byte[size] : rented.AsSpan(0, size);
        try
        {
            frame[0] = (byte)(0x80 | opcode);
            if (header == 2) frame[1] = (byte)(0x80 | payload.Length);
            else if (header == 4) { frame[1] = 0x80 | 126; BinaryPrimitives.WriteUInt16BigEndian(frame[2..], (ushort)payload.Length); }
            else { frame[1] = 0x80 | 127; BinaryPrimitives.WriteUInt64BigEndian(frame[2..], (ulong)payload.Length); }
            var mask = frame.Slice(header, 4);
            Random.Shared.NextBytes(mask);
            var body = frame[(header + 4)..];
            for (var i = 0; i < payload.Length; i++) body[i] = (byte)(payload[i] ^ mask[i & 3]);
            SendAll(frame);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Writes all of <paramref name="bytes"/>. The socket is non-blocking and a phone's frames are
    /// small: a full send buffer means the server stopped reading, which is waited out for 10 s.
    /// </summary>
    private void SendAll(ReadOnlySpan<byte> bytes)
    {
        var since = 0L;
        while (!bytes.IsEmpty)
        {
            var sent = _socket.Send(bytes, SocketFlags.None, out var error);
            if (error == SocketError.Success) { bytes = bytes[sent..]; continue; }
            if (error != SocketError.WouldBlock) throw new SocketException((int)error);
            if (since == 0) since = Stopwatch.GetTimestamp();
            else if (Stopwatch.GetElapsedTime(since) > TimeSpan.FromSeconds(10)) throw new TimeoutException("the server read nothing for 10 s");
            Thread.Sleep(1);
        }
    }

    /// <summary>Ends the connection once: every call waiting fails, the socket closes, <see cref="Closed"/> is told.</summary>
    private void End(Exception? failure, bool raiseClosed = true)
    {
        lock (_sending)
        {
            if (_state == State.Closed) return;
            _state = State.Closed;
        }
        Epoll.Forget(_id);
        _socket.Dispose(); // which takes it out of the epoll set
        foreach (var call in _calls.Values) call.TrySetException(new RawHubException("the connection closed"));
        _opened.TrySetException(failure ?? new RawHubException("the connection closed"));
        _ended.TrySetResult();
        if (raiseClosed && Closed is { } closed) _ = Task.Run(() => closed(failure));
    }

    /// <summary>Sends this side's close frame once, while open; says whether it was sent now.</summary>
    private bool SendClose(ReadOnlySpan<byte> status)
    {
        lock (_sending)
        {
            if (_state != State.Open || _closeSent) return false;
            _closeSent = true;
            SendFrame(OpClose, status);
            return true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        bool closing;
        try { closing = SendClose(NormalClosure); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or TimeoutException) { closing = false; }
        // The server answers with its own close, which ends the connection on the loop's thread.
        if (closing) await _ended.Task.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        End(null);
    }
}

/// <summary>A hub call the server refused, with its "code: text" message (docs/live.md, section 5).</summary>
public sealed class RawHubException(string message) : Exception(message);
