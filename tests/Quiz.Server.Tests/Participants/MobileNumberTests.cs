using Quiz.Server.Participants;

namespace Quiz.Server.Tests.Participants;

/// <summary>A pure rule: no server (RegistrationTests seeds one for each of its tests).</summary>
public sealed class MobileNumberTests
{
    [Theory]
    [InlineData("13812345678", "13812345678")]
    [InlineData("138 1234 5678", "13812345678")]
    [InlineData("+86 138-1234-5678", "13812345678")]
    [InlineData("008613812345678", "13812345678")]
    [InlineData("8613812345678", "13812345678")]
    [InlineData("12812345678", null)]
    [InlineData("1381234567", null)]
    [InlineData("abc", null)]
    public void MobileNumbersAreNormalised(string raw, string? expected) =>
        Assert.Equal(expected, ParticipantRegistry.NormaliseMobile(raw));
}
