using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Quiz.Server.Tests.Infrastructure;

/// <summary>
/// Reads verification codes the way a person on the embedded run does: from the server's log,
/// where the Log provider writes "verification code for 139****0001: 123456 (verification …)".
/// Fed either as a logging provider of an in-process server, or line by line from a server
/// process's console. The server has no other way to hand a code out, and these tests add none.
/// </summary>
public sealed partial class VerificationLog : ILoggerProvider
{
    public sealed record Sent(string MobileMasked, string Code, string VerificationId);

    private readonly ConcurrentQueue<Sent> _sent = new();

    /// <summary>Takes one line of log text; lines that are no code are ignored.</summary>
    public void Read(string line)
    {
        var match = CodeLine().Match(line);
        if (match.Success) _sent.Enqueue(new Sent(match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value));
    }

    /// <summary>The code sent for a verification; waits a little, as a console log is written on its own thread.</summary>
    public async Task<string> CodeForAsync(string verificationId, TimeSpan? wait = null)
    {
        var until = DateTime.UtcNow + (wait ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            if (_sent.FirstOrDefault(s => s.VerificationId == verificationId) is { } sent) return sent.Code;
            if (DateTime.UtcNow > until) throw new TimeoutException($"no verification code for {verificationId} in the log ({_sent.Count} codes seen)");
            await Task.Delay(20);
        }
    }

    /// <summary>The last code sent to a number, as its owner would read it off their phone.</summary>
    public Sent? LatestTo(string mobile) => _sent.LastOrDefault(s => s.MobileMasked == $"{mobile[..3]}****{mobile[^4..]}");

    public IReadOnlyCollection<Sent> All => _sent.ToArray();

    ILogger ILoggerProvider.CreateLogger(string categoryName) => new Logger(this);

    void IDisposable.Dispose() { }

    private sealed class Logger(VerificationLog log) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) log.Read(formatter(state, exception));
        }
    }

    [GeneratedRegex(@"verification code for (\d{3}\*{4}\d{4}): (\d{6}) \(verification ([A-Za-z0-9_-]+)\)")]
    private static partial Regex CodeLine();
}
