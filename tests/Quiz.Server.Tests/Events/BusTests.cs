using MassTransit;
using Microsoft.Extensions.Options;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Events;

public sealed class BusTests
{
    [Fact]
    public void MassTransitSendsNoUsageTelemetry()
    {
        using var app = new QuizApplication();
        _ = app.Server; // builds the host, and with it the bus's configuration

        Assert.False(app.Service<IOptions<UsageTelemetryOptions>>().Value.Enabled);
    }
}
