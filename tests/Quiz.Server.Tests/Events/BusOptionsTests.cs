using Microsoft.Extensions.Configuration;
using Quiz.Server.Events;

namespace Quiz.Server.Tests.Events;

public sealed class BusOptionsTests
{
    private static BusOptions Bind(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create<string, string?>(s.Key, s.Value))).Build()
            .GetSection(BusOptions.Section).Get<BusOptions>() ?? new BusOptions();

    [Fact]
    public void TheEmbeddedRunKeepsEventsInMemory()
    {
        var options = Bind();
        options.Validate();
        Assert.Equal(BusTransport.InMemory, options.Transport);
        Assert.Equal(TimeSpan.FromSeconds(5), options.CatchUpInterval);
    }

    [Fact]
    public void RabbitMqTakesAnAmqpUri()
    {
        var options = Bind(("Bus:Transport", "RabbitMq"), ("Bus:RabbitMq", "amqps://quiz:secret@mq.internal:5671/quiz"));
        options.Validate();
        Assert.Equal(BusTransport.RabbitMq, options.Transport);
    }

    [Theory]
    [InlineData("Bus:RabbitMq", "localhost:5672")]
    [InlineData("Bus:RabbitMq", "http://localhost:15672/")]
    [InlineData("Bus:CatchUpInterval", "00:00:00")]
    public void BadSettingsStopTheStart(string key, string value)
    {
        var options = Bind(("Bus:Transport", "RabbitMq"), (key, value));
        Assert.Throws<InvalidOperationException>(options.Validate);
    }
}
