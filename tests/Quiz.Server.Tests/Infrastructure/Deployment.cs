namespace Quiz.Server.Tests.Infrastructure;

/// <summary>
/// Several nodes of one deployment in this process: each a server with a data folder of its own, all
/// on one PostgreSQL database and one RabbitMQ virtual host of their own, with one participant
/// secret. Disposing it stops every node it made.
/// </summary>
public sealed class Deployment(RabbitMqServerFixture broker, PostgresServerFixture postgres, string name) : IDisposable
{
    private readonly string _name = name + "-" + Guid.NewGuid().ToString("N");
    private readonly List<QuizApplication> _nodes = [];

    /// <summary>A node of this deployment (not started: it starts when first used).</summary>
    public QuizApplication Node(string nodeId, bool kestrel = false)
    {
        var node = new QuizApplication(kestrel)
            .With("Storage:Provider", "Postgres")
            .With("Storage:ConnectionString", postgres.DatabaseFor(_name))
            .With("Bus:Transport", "RabbitMq")
            .With("Bus:RabbitMq", broker.UriFor(_name))
            .With("Participants:Secret", "deployment-participant-secret")
            .With("Server:NodeId", nodeId);
        _nodes.Add(node);
        return node;
    }

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
    }
}
