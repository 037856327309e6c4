using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Cluster.Tests.Infrastructure;

/// <summary>
/// Follows every node's log file, as a person reads their text messages: the Log provider writes
/// each verification code to the console of the node that sent it. Also tells which node that
/// was, so a test knows the node nginx keeps a phone on.
/// </summary>
public sealed partial class NodeLogs : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _follow;
    private readonly ConcurrentDictionary<string, string> _nodeOfVerification = new();
    private readonly ConcurrentQueue<(string Session, long Owner, string Node)> _liveOwners = new();

    /// <summary>Every node that took a live session, in the order their logs were read: (owner number, node).</summary>
    public IReadOnlyList<(long Owner, string Node)> LiveOwners(string sessionId) =>
        _liveOwners.Where(o => o.Session == sessionId).Select(o => (o.Owner, o.Node)).OrderBy(o => o.Owner).ToList();

    public VerificationLog Codes { get; } = new();

    public NodeLogs(IReadOnlyDictionary<string, string> files) => _follow = Task.Run(() => FollowAsync(files, _stop.Token));

    /// <summary>The node whose log carries a verification's code (the node that served the registration).</summary>
    public async Task<string> NodeOfAsync(string verificationId)
    {
        await Codes.CodeForAsync(verificationId, TimeSpan.FromSeconds(30));
        return _nodeOfVerification.TryGetValue(verificationId, out var node) ? node : throw new InvalidOperationException($"no node wrote {verificationId}");
    }

    private async Task FollowAsync(IReadOnlyDictionary<string, string> files, CancellationToken ct)
    {
        var offsets = files.Keys.ToDictionary(k => k, _ => 0L);
        var partial = files.Keys.ToDictionary(k => k, _ => new StringBuilder());
        var buffer = new byte[1 << 16];
        while (!ct.IsCancellationRequested)
        {
            foreach (var (node, path) in files)
            {
                if (!File.Exists(path)) continue;
                await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                file.Seek(offsets[node], SeekOrigin.Begin);
                int read;
                while ((read = await file.ReadAsync(buffer, ct)) > 0)
                {
                    offsets[node] += read;
                    // Log lines are ASCII up to the code and its id; a character split between two
                    // reads can only fall in a nickname or a message, never in what is parsed.
                    var text = Encoding.UTF8.GetString(buffer, 0, read);
                    foreach (var c in text)
                    {
                        if (c != '\n') { partial[node].Append(c); continue; }
                        Read(node, partial[node].ToString());
                        partial[node].Clear();
                    }
                }
            }
            try { await Task.Delay(50, ct); } catch (OperationCanceledException) { return; }
        }
    }

    private void Read(string node, string line)
    {
        if (VerificationId().Match(line) is { Success: true } match) _nodeOfVerification[match.Groups[1].Value] = node;
        if (LiveOwner().Match(line) is { Success: true } owner) _liveOwners.Enqueue((owner.Groups[1].Value, long.Parse(owner.Groups[2].Value), node));
        Codes.Read(line);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _follow; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }

    [GeneratedRegex(@"verification code for .*\(verification ([A-Za-z0-9_-]+)\)")]
    private static partial Regex VerificationId();

    [GeneratedRegex(@"Live session (\S+) runs on this node \(owner (\d+)\)")]
    private static partial Regex LiveOwner();
}
