using System.Net;
using System.Net.Http.Json;
using Quiz.Server.Participants;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Participants;

/// <summary>The rules are pure; one registration shows the API applies them to the nickname field.</summary>
public sealed class NicknameRulesTests
{
    [Theory]
    [InlineData("张阿姨")]
    [InlineData("老王 退休教师")]
    [InlineData("Grace 李")]
    [InlineData("小明2024")]
    [InlineData("👵奶奶")]
    [InlineData("近平路社区")] // a name that only shares characters with a blocked one
    public void OrdinaryNicknamesPass(string nickname) => Assert.Null(NicknameRules.Check(nickname));

    [Theory]
    [InlineData("\u202Eevil", "U+202E")] // right-to-left override: the name reads backwards
    [InlineData("ab\u2066cd", "U+2066")] // left-to-right isolate
    [InlineData("管\u200B理\u200B员", "U+200B")] // zero-width space hiding a blocked word
    [InlineData("a\u200Fb", "U+200F")]
    [InlineData("\uFEFFname", "U+FEFF")]
    [InlineData("tab\there", "U+0009")]
    [InlineData("bell\u0007", "U+0007")]
    [InlineData("line\u2028break", "U+2028")]
    public void InvisibleAndControlCharactersAreRefusedByName(string nickname, string named) =>
        Assert.Contains(named, NicknameRules.Check(nickname));

    [Fact]
    public void ALoneSurrogateIsRefused() => Assert.Contains("U+FFFD", NicknameRules.Check("lone\uD800"));

    [Theory]
    [InlineData("习近平")]
    [InlineData("我是习近平粉丝")]
    [InlineData("习 近 平")]
    [InlineData("习.近_平")]
    [InlineData("習近平")]
    [InlineData("傻逼")]
    [InlineData("ＦＵＣＫ")] // full-width
    [InlineData("F u C k")]
    [InlineData("官方-客服")]
    public void BlockedWordsAreFoundThroughSimpleEvasions(string nickname) =>
        Assert.Equal("this nickname is not allowed; choose another", NicknameRules.Check(nickname));

    [Theory]
    [InlineData("")]
    [InlineData("一二三四五六七八九十一二三四五六七八九十一")]
    public void EmptyOrLongerThanTwentyIsRefused(string nickname) =>
        Assert.Equal("a nickname of 1 to 20 characters is required", NicknameRules.Check(nickname));

    [Fact]
    public void TheListIsDataReadFromItsFile()
    {
        var file = Path.Combine(Path.GetTempPath(), $"quiz-test-{Guid.NewGuid():N}.txt");
        File.WriteAllText(file, "# a comment\n\n  Ｂａｄ Ｗｏｒｄ  \n");
        try
        {
            Assert.Equal(["badword"], NicknameRules.Load(file));
        }
        finally
        {
            File.Delete(file);
        }
        Assert.Contains("习近平", NicknameRules.Blocked);
        Assert.True(NicknameRules.Blocked.Count >= 30);
    }

    [Fact]
    public async Task RegistrationRefusesABadNicknameOnTheNicknameField()
    {
        using var app = new QuizApplication();
        await PlayWorld.SeedAsync(app);
        using var client = app.CreateClient();

        using var response = await client.PostAsJsonAsync("/api/participants/register",
            new { nickname = "客服\u202E", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.County, track = "general" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>();
        Assert.Contains("U+202E", Assert.Single(Assert.Single(problem!.Errors).Value));
        Assert.Equal("nickname", Assert.Single(problem.Errors).Key);
    }
}
