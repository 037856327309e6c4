using System.Diagnostics;

namespace Quiz.Server.Tests.Infrastructure;

/// <summary>The server's command line (import, admin, rankings) run as its own process, as an operator would.</summary>
public static class CommandLine
{
    public static async Task<(int ExitCode, string[] Lines, string Errors)> RunAsync(params string[] args)
    {
        var server = Path.Combine(AppContext.BaseDirectory, "Quiz.Server.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(server);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        // On the PostgreSQL run a command goes to the database that goes with its data folder, as the servers do.
        if (PostgresServerFixture.TestStoreIsPostgres && args.FirstOrDefault(a => a.StartsWith("--Storage:DataDir=")) is { } dataDir)
            foreach (var arg in PostgresServerFixture.Shared.ServerSettings(dataDir["--Storage:DataDir=".Length..])) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), await errors);
    }
}
