using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Quiz.Server.Participants;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Participants;

/// <summary>Rule 8: a code the server sent is still good after that server dies, on the next one over the same store.</summary>
public sealed class VerificationRestartTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "quiz-tests", "verify-" + Guid.NewGuid().ToString("N"));
    private string DataDir => Path.Combine(_root, "data");
    private string BankDir => Path.Combine(_root, "bank");

    public VerificationRestartTests()
    {
        Directory.CreateDirectory(DataDir);
        PlayWorld.WriteBank(BankDir, PlayWorld.Campaign());
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task ACodeSentBeforeAKillIsAcceptedAfterTheRestart()
    {
        var mobile = PlayWorld.NextMobile();
        ParticipantsApi.VerificationSent sent;
        string code;
        await using (var first = await ServerProcess.StartAsync(DataDir, BankDir))
        {
            using var http = new HttpClient { BaseAddress = first.Address };
            sent = await PlayWorld.StartRegistrationAsync(http,
                new { nickname = "重启", mobile, regionCode = PlayWorld.County, organisationCode = PlayWorld.Bank, track = "elderly" });
            code = await first.Codes.CodeForAsync(sent.VerificationId, TimeSpan.FromSeconds(20));
            Assert.Equal(first.Codes.LatestTo(mobile)?.Code, code); // the code is written for the (masked) number
            first.Kill();
        }

        await using var second = await ServerProcess.StartAsync(DataDir, BankDir);
        using var client = new HttpClient { BaseAddress = second.Address };
        using var response = await client.PostAsJsonAsync("/api/participants/verify", new { sent.VerificationId, code });

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var registered = (await response.Content.ReadFromJsonAsync<ParticipantsApi.Registered>())!;
        Assert.Equal("重启", registered.Participant.Nickname);
        Assert.Equal("elderly", registered.Participant.Track);
        Assert.Equal(PlayWorld.County, registered.Participant.Region[^1].Code);
        SqliteConnection.ClearAllPools();
    }
}
