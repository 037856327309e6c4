using System.Text.RegularExpressions;

namespace Quiz.Server.Diagnostics;

/// <summary>
/// Keeps participant tokens out of every log. SignalR's browser client sends the token in the
/// query string (access_token=…, WebSockets cannot carry a header), and ASP.NET Core's request log
/// writes the whole query at Information: a log shared for support would hand out live sessions.
/// A filter can only drop a message, so every logging provider is wrapped and what it is given
/// is rewritten: message, structured values and exception text.
/// </summary>
public static partial class LogRedaction
{
    public const string Mask = "[redacted]";

    [GeneratedRegex(@"(?<=\baccess_token=)[^&\s""'#]+|(?<=\bBearer\s+)[A-Za-z0-9._~+/=-]+", RegexOptions.IgnoreCase)]
    private static partial Regex Secret();

    public static bool HasSecret(string? text) =>
        text is not null && (text.Contains("access_token=", StringComparison.OrdinalIgnoreCase) || text.Contains("Bearer ", StringComparison.OrdinalIgnoreCase));

    public static string Redact(string text) => HasSecret(text) ? Secret().Replace(text, Mask) : text;

    /// <summary>Wraps the logging providers registered so far (call it after the last AddXyz of a provider).</summary>
    public static void RedactLogs(this IServiceCollection services)
    {
        foreach (var descriptor in services.Where(d => d.ServiceType == typeof(ILoggerProvider) && !d.IsKeyedService).ToList())
        {
            services.Remove(descriptor);
            if (descriptor.ImplementationType is { } type)
            {
                // Built by the container as before (it picks the richest constructor, e.g. the
                // console provider's with the configured formatters) and disposed by it.
                services.AddSingleton(type);
                services.AddSingleton<ILoggerProvider>(sp => new RedactingProvider((ILoggerProvider)sp.GetRequiredService(type)));
            }
            else
            {
                services.AddSingleton<ILoggerProvider>(sp => new RedactingProvider(
                    (ILoggerProvider)(descriptor.ImplementationInstance ?? descriptor.ImplementationFactory!(sp))));
            }
        }
    }

    private sealed class RedactingProvider(ILoggerProvider inner) : ILoggerProvider, ISupportExternalScope
    {
        public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName));

        public void SetScopeProvider(IExternalScopeProvider scopeProvider)
        {
            if (inner is ISupportExternalScope scoped) scoped.SetScopeProvider(scopeProvider);
        }

        public void Dispose() { } // the inner provider belongs to the container
    }

    private sealed class RedactingLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            var exceptionText = exception?.ToString();
            if (!HasSecret(message) && !HasSecret(exceptionText))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }
            var values = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            var redacted = new RedactedState(Redact(message),
                values.Select(kv => kv.Value is string text ? new KeyValuePair<string, object?>(kv.Key, Redact(text)) : kv).ToList());
            inner.Log(logLevel, eventId, redacted, exceptionText is null ? null : new RedactedException(Redact(exceptionText)), static (s, _) => s.Message);
        }
    }

    private sealed class RedactedState(string message, List<KeyValuePair<string, object?>> values) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string Message => message;
        public KeyValuePair<string, object?> this[int index] => values[index];
        public int Count => values.Count;
        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => values.GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
        public override string ToString() => message;
    }

    /// <summary>Stands in for an exception whose text held a secret: prints the redacted text.</summary>
    private sealed class RedactedException(string text) : Exception
    {
        public override string ToString() => text;
    }
}
