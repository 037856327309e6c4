using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Quiz.Server.Tests.Infrastructure;

/// <summary>The real server as its own process on a free loopback port, for tests that kill it.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    public Uri Address { get; }

    /// <summary>What the server printed, for failure messages.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Output { get; private init; } = new();

    /// <summary>The verification codes the server printed (its Log provider), read off its console.</summary>
    public VerificationLog Codes { get; private init; } = new();

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    /// <summary>Started on this data folder (and, with QUIZ_TEST_STORE=postgres or QUIZ_TEST_BUS=rabbitmq, on the PostgreSQL database or RabbitMQ virtual host that goes with it).</summary>
    public static Task<ServerProcess> StartAsync(string dataDir, string bankDir, params string[] settings) =>
        StartInAsync(dataDir, [$"--Storage:DataDir={dataDir}", $"--Seed:Path={bankDir}", "--Logging:LogLevel:Default=Warning",
            .. PostgresServerFixture.TestStoreIsPostgres ? PostgresServerFixture.Shared.ServerSettings(dataDir) : [],
            .. RabbitMqServerFixture.TestBusIsRabbitMq ? RabbitMqServerFixture.Shared.ServerSettings(dataDir) : [], .. settings]);

    /// <summary>
    /// Started in a working directory with only these settings (and a free port), as a user would
    /// start it there: its own appsettings.json and the defaults do the rest.
    /// </summary>
    public static async Task<ServerProcess> StartInAsync(string workingDirectory, params string[] settings)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Quiz.Server.dll"));
        start.ArgumentList.Add($"--urls=http://127.0.0.1:{port}");
        foreach (var arg in settings) start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var codes = new VerificationLog();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            output.Enqueue(e.Data);
            codes.Read(e.Data);
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}")) { Output = output, Codes = codes };
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 300; i++)
        {
            if (process.HasExited) throw new InvalidOperationException($"the server exited with {process.ExitCode}:\n{string.Join("\n", output)}");
            try
            {
                if ((await client.GetAsync("/healthz")).IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the server did not answer /healthz within 30 s:\n{string.Join("\n", output)}");
    }

    /// <summary>Everything the server printed so far, one line each.</summary>
    public string Log => string.Join('\n', Output);

    /// <summary>SIGTERM, as a service manager stops it: the server shuts down and flushes its log, then exits.</summary>
    public async Task StopAsync()
    {
        await SignalAsync("-TERM"); // a server that has already exited is not an error here
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(timeout.Token); // also waits for the redirected output to end
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the server did not exit within 30 s of SIGTERM.\nWhat it waits on (dotnet-dump):\n{await WhatItWaitsOnAsync()}\nThe last of its output:\n{string.Join('\n', Output.TakeLast(60))}");
        }
    }

    /// <summary>
    /// What the running server waits on: its async state machines and its threads' stacks, from a
    /// dump by dotnet-dump (the repository's local tool, restored by test.sh). A hang in an await
    /// shows on no thread, so the async stacks are its only witness.
    /// </summary>
    private async Task<string> WhatItWaitsOnAsync()
    {
        var dump = Path.Combine(Path.GetTempPath(), $"quiz-hang-{_process.Id}.dmp");
        try
        {
            var collected = await DotnetDumpAsync("collect", "-p", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", dump, "--type", "Heap");
            if (!File.Exists(dump)) return $"(no dump: {collected})";
            return await DotnetDumpAsync("analyze", dump, "-c", "dumpasync --coalesce", "-c", "clrstack -all", "-c", "exit");
        }
        finally { File.Delete(dump); }
    }

    private static async Task<string> DotnetDumpAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        foreach (var arg in new[] { "tool", "run", "dotnet-dump" }.Concat(args)) start.ArgumentList.Add(arg);
        using var tool = Process.Start(start)!;
        var output = tool.StandardOutput.ReadToEndAsync();
        var errors = tool.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try { await tool.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { tool.Kill(entireProcessTree: true); }
        return await output + await errors;
    }

    /// <summary>SIGSTOP: the process runs nothing until <see cref="ResumeAsync"/>, as a node whose cores are all taken; the kernel still answers for its sockets.</summary>
    public async Task PauseAsync() => Assert.Equal(0, await SignalAsync("-STOP"));

    /// <summary>SIGCONT after <see cref="PauseAsync"/>.</summary>
    public async Task ResumeAsync() => Assert.Equal(0, await SignalAsync("-CONT"));

    /// <summary>Sends a signal with kill(1); its exit code (non-zero when the process is gone).</summary>
    private async Task<int> SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        return kill.ExitCode;
    }

    /// <summary>The process's exit code, once it has exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>SIGKILL: no shutdown, no flush, as a power cut or an OOM kill would do.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public static int FreePort() => Quiz.Ranking.Tests.RedisServerFixture.FreePort();

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
