using System.Text.Json;
using Quiz.Server.Events;
using Quiz.Server.Play;

namespace Quiz.Server.Tests.Events;

public sealed class CompletedRoundsTests
{
    /// <summary>A round with every field as long as the store allows in practice: a 10-question round, a four-level region path, an organisation.</summary>
    private static RoundCompleted LongRound(int i) => new(
        900_000_000 + i, $"0193a7c2f4e87b1e9c3d5f6a7b8c9d{i:D4}", "2023-national-illegal-fundraising", "stage-final", 900_000_000 + i,
        new DateOnly(2023, 6, 21), 100, 100, 299_999, DateTimeOffset.Parse("2023-06-21T23:59:59.9999999+08:00", System.Globalization.CultureInfo.InvariantCulture),
        ["340000000000", "340100000000", "340102000000", "340102001000"], "91340100MA2TXXXX9X", "university", true, true,
        [.. Enumerable.Range(0, 10).Select(q => new CompletedAnswer($"FUND-2023-{q:D4}", 12, "ABCD", q % 2 == 0))]);

    /// <summary>
    /// The bus carries rounds many to a message, serialised as JSON even in process (MassTransit's
    /// in-memory transport), and each consumer parses it again. A message of 200 rounds was ~270 KB:
    /// its text and the parser's buffers were large objects, and large objects count towards a full
    /// collection (two or three background gen-2 collections in every opening burst, BENCHMARKS.md).
    /// A full message stays under 40 KB, so the parser's buffer for it (about the text's size,
    /// rented in a power of two) stays under the 85,000 bytes of a large object too.
    /// </summary>
    [Fact]
    public void AFullMessageOfLongRoundsStaysASmallObject()
    {
        var message = new RoundsCompleted([.. Enumerable.Range(0, CompletedRounds.MaxRounds).Select(LongRound)]);
        var json = JsonSerializer.SerializeToUtf8Bytes(message, MassTransit.Serialization.SystemTextJsonMessageSerializer.Options);
        Assert.True(json.Length < 40_000, $"{CompletedRounds.MaxRounds} rounds are {json.Length:N0} bytes of JSON");
        Assert.True(CompletedRounds.MaxRounds >= 16, "fewer rounds a message would give back what batching saved (BENCHMARKS.md)");
    }
}
