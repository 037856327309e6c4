using Npgsql;
using Quiz.Server.Storage;

namespace Quiz.Server.Tests.Storage;

/// <summary>PostgreSQL connections prepare the store's statements automatically, unless the connection string says otherwise.</summary>
public sealed class AutoPrepareTests
{
    [Fact]
    public void AConnectionStringWithoutASayIsGivenAutomaticPreparation()
    {
        var builder = new NpgsqlConnectionStringBuilder(Database.WithAutoPrepare("Host=db;Username=quiz;Password=p;Database=quiz"));
        Assert.Equal((64, 2), (builder.MaxAutoPrepare, builder.AutoPrepareMinUsages));
        Assert.Equal(("db", "quiz", "p"), (builder.Host, builder.Database, builder.Password));
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0")]
    [InlineData("Host=db;maxautoprepare=8;Auto Prepare Min Usages=5")]
    public void AConnectionStringThatSaysIsLeftAsItIs(string connectionString) =>
        Assert.Equal(connectionString, Database.WithAutoPrepare(connectionString));
}
