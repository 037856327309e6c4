using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;

namespace Quiz.LoadTests;

/// <summary>
/// Registration needs the code the server sends to the number. On the embedded run its Log
/// provider writes it to the server's console ("verification code for 139****0001: 123456
/// (verification …)"), which run.sh sends to a file: this follows that file, as a person reads
/// their text messages, and hands each verification its code. Each file is followed on a thread
/// of its own: a follower on the thread pool waited behind the phones' work items at every poll,
/// and in the opening burst the step "register: read code" took 130–580 ms on average (p95
/// 0.6–1.9 s), a wait of the stand-in's own; on its own thread 66–107 ms (BENCHMARKS.md).
/// </summary>
public sealed partial class ServerLog : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _codes = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _follow;

    /// <param name="paths">The server's log file, or each node's when several nodes send codes (deploy/cluster.sh).</param>
    public ServerLog(IEnumerable<string> paths) =>
        _follow = Task.WhenAll(paths.Select(path => Task.Factory.StartNew(() => Follow(path, _stop.Token), _stop.Token,
            TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToList());

    /// <summary>The code of one verification, once the server has written it.</summary>
    public async Task<string> CodeAsync(string verificationId, CancellationToken ct)
    {
        var pending = _codes.GetOrAdd(verificationId, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            if (_follow.IsFaulted) await _follow;
            return await pending.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"no verification code for {verificationId} in the server's log within 30 s");
        }
        finally
        {
            _codes.TryRemove(verificationId, out _);
        }
    }

    private void Follow(string path, CancellationToken ct)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        var decoder = Encoding.UTF8.GetDecoder();
        var bytes = new byte[1 << 16];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        var line = new StringBuilder();
        while (!ct.IsCancellationRequested)
        {
            var read = file.Read(bytes);
            if (read == 0)
            {
                Thread.Sleep(2); // the end for now: the server writes more
                continue;
            }
            var count = decoder.GetChars(bytes, 0, read, chars, 0);
            for (var i = 0; i < count; i++)
            {
                if (chars[i] != '\n')
                {
                    line.Append(chars[i]);
                    continue;
                }
                Read(line.ToString()); // only whole lines: a line read while being written would lose its code
                line.Clear();
            }
        }
    }

    private void Read(string line)
    {
        var match = CodeLine().Match(line);
        if (match.Success)
            _codes.GetOrAdd(match.Groups[2].Value, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously))
                .TrySetResult(match.Groups[1].Value);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _follow; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }

    [GeneratedRegex(@"verification code for \d{3}\*{4}\d{4}: (\d{6}) \(verification ([A-Za-z0-9_-]+)\)")]
    private static partial Regex CodeLine();
}
