using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Quiz.Ranking;
using Quiz.Server.Admin;
using Quiz.Server.Hosting;
using Quiz.Server.Participants;
using Quiz.Server.Storage;
using Xunit.Abstractions;
using static Quiz.Server.Tests.Hosting.DeploymentFiles;

namespace Quiz.Server.Tests.Hosting;

/// <summary>
/// The container deployment (docker-compose.yml, Dockerfile, deploy/nginx.conf, .env) and the
/// topology list that deploy/cluster.sh shares (deploy/topology.env) agree with each other and
/// with the settings the server reads. No container engine is needed: the files are read. When a
/// `docker compose` (or `docker-compose`) client is on the machine, it validates the file too.
/// </summary>
public sealed class ContainerDeploymentTests(ITestOutputHelper output)
{
    /// <summary>The scale-out settings every node must get, by the names of issues 11 and 13.</summary>
    private static readonly string[] RequiredNodeSettings =
    [
        "Storage__Provider", "Storage__ConnectionString", "Bus__Transport", "Bus__RabbitMq", "Ranking__Engine", "Ranking__Redis",
        "Admin__ApiKey", "Participants__Secret", "Urls", "Seed__Path", "SignalR__Redis",
    ];

    /// <summary>Settings read by the host itself rather than an options class.</summary>
    private static readonly string[] HostSettings = ["Urls", "ASPNETCORE_FORWARDEDHEADERS_ENABLED"];

    /// <summary>
    /// Settings of issue 11 whose options are being written on other branches (the PostgreSQL
    /// store, the RabbitMQ bus). Until their property exists the binding check notes them instead
    /// of failing; once it exists they are checked like every other key. Delete an entry when its
    /// property has landed.
    /// </summary>
    private static readonly HashSet<string> AwaitedSettings = ["Storage:Provider", "Storage:ConnectionString", "Bus:Transport", "Bus:RabbitMq"];

    public sealed record Files(string Compose, string Dockerfile, string Nginx, string Topology, string Env, string DockerIgnore, string? ClusterScript);

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Quiz.sln"))) return dir.FullName;
        throw new InvalidOperationException("Quiz.sln not found above " + AppContext.BaseDirectory);
    }

    public static Files ReadFiles()
    {
        var root = RepositoryRoot();
        string Read(string path) => File.ReadAllText(Path.Combine(root, path));
        var cluster = Path.Combine(root, "deploy", "cluster.sh");
        return new Files(Read("docker-compose.yml"), Read("Dockerfile"), Read(Path.Combine("deploy", "nginx.conf")),
            Read(Path.Combine("deploy", "topology.env")), Read(".env"), Read(".dockerignore"), File.Exists(cluster) ? File.ReadAllText(cluster) : null);
    }

    [Fact]
    public void TheComposeFileTheDockerfileNginxAndTheTopologyAgree()
    {
        var notes = new List<string>();
        var problems = Problems(ReadFiles(), notes);
        foreach (var note in notes) output.WriteLine(note);
        Assert.True(problems.Count == 0, "The deployment files disagree:\n- " + string.Join("\n- ", problems));
    }

    /// <summary>Each check can fail: one change at a time to the real files, and the check names it.</summary>
    [Theory]
    [InlineData("one node lacks a setting", "compose", "      ASPNETCORE_FORWARDEDHEADERS_ENABLED: \"true\"\n    volumes:\n      - quiz2-data", "    volumes:\n      - quiz2-data", "quiz2 lacks")]
    [InlineData("a node's value differs", "compose", "      Ranking__Redis: redis:6379\n      SignalR__Redis: redis:6379\n      Admin__ApiKey: ${QUIZ_ADMIN_KEY:?set QUIZ_ADMIN_KEY in .env}\n      Participants__Secret: ${QUIZ_PARTICIPANT_SECRET:?set QUIZ_PARTICIPANT_SECRET in .env}\n      Seed__Path: /app/question-bank\n      ASPNETCORE_FORWARDEDHEADERS_ENABLED: \"true\"\n    volumes:\n      - quiz3-data", "      Ranking__Redis: redis:6380\n      SignalR__Redis: redis:6379\n      Admin__ApiKey: ${QUIZ_ADMIN_KEY:?set QUIZ_ADMIN_KEY in .env}\n      Participants__Secret: ${QUIZ_PARTICIPANT_SECRET:?set QUIZ_PARTICIPANT_SECRET in .env}\n      Seed__Path: /app/question-bank\n      ASPNETCORE_FORWARDEDHEADERS_ENABLED: \"true\"\n    volumes:\n      - quiz3-data", "Ranking__Redis differs between quiz1")]
    [InlineData("the Redis address is not the redis service's", "compose", "Ranking__Redis: redis:6379", "Ranking__Redis: redis:6380", "Ranking__Redis")]
    [InlineData("a secret is written in the file", "compose", "Admin__ApiKey: ${QUIZ_ADMIN_KEY:?set QUIZ_ADMIN_KEY in .env}", "Admin__ApiKey: secret", "Admin__ApiKey")]
    [InlineData("a setting the server does not read", "compose", "Ranking__Engine: Redis", "Ranking__Engines: Redis", "Ranking:Engines")]
    [InlineData("the compose file uses an anchor this check cannot follow", "compose", "  quiz1:\n    build:", "  quiz1: &node\n    build:", "anchor")]
    [InlineData("a node publishes a port", "compose", "    image: quiz-server:local\n    restart: unless-stopped\n    environment:\n      Urls: http://0.0.0.0:8080\n      Storage__Provider: Postgres", "    image: quiz-server:local\n    ports:\n      - \"9000:8080\"\n    restart: unless-stopped\n    environment:\n      Urls: http://0.0.0.0:8080\n      Storage__Provider: Postgres", "publish")]
    [InlineData("the published port is not 8080", "compose", "\"8080:80\"", "\"8081:80\"", "expected exactly \"8080:80\"")]
    [InlineData("a node starts before PostgreSQL is healthy", "compose", "      postgres:\n        condition: service_healthy\n      redis:\n        condition: service_healthy\n      rabbitmq:\n        condition: service_healthy\n\n  quiz2", "      redis:\n        condition: service_healthy\n      rabbitmq:\n        condition: service_healthy\n\n  quiz2", "postgres")]
    [InlineData("the data volume is not the data folder", "compose", "quiz1-data:/app/data", "quiz1-data:/data", "quiz1 mounts no named volume on the data folder /app/data")]
    [InlineData("nginx sends a node to another port", "nginx", "server quiz2:8080", "server quiz2:8081", "quiz2:8081 is not on QUIZ_NODE_PORT 8080")]
    [InlineData("nginx forgets a node", "nginx", "        server quiz3:8080 max_fails=2 fail_timeout=10s;\n", "", "quiz3")]
    [InlineData("nginx is not sticky", "nginx", "        ip_hash;\n", "", "ip_hash")]
    [InlineData("nginx spreads a live room over the nodes", "nginx", "hash $arg_room consistent;", "ip_hash;", "hash $arg_room consistent")]
    [InlineData("nginx does not upgrade WebSockets", "nginx", "            proxy_set_header Upgrade $http_upgrade;\n", "", "Upgrade")]
    [InlineData("nginx listens elsewhere", "nginx", "listen 80 ", "listen 8000 ", "listen")]
    [InlineData("the image exposes another port", "dockerfile", "EXPOSE 8080", "EXPOSE 80", "EXPOSE")]
    [InlineData("the health check asks another path", "dockerfile", "/healthz", "/health", "HEALTHCHECK")]
    [InlineData("the image runs as root", "dockerfile", "USER $APP_UID\n", "", "USER")]
    [InlineData("the question bank is not in the image", "dockerfile", "COPY question-bank/ ./question-bank/\n", "", "question-bank")]
    [InlineData("the topology names another node", "topology", "QUIZ_NODES=\"quiz1 quiz2 quiz3\"", "QUIZ_NODES=\"quiz1 quiz2 quiz4\"", "quiz4")]
    [InlineData("a shared secret has no value in .env", "env", "QUIZ_ADMIN_KEY=change-me-admin-key\n", "", "QUIZ_ADMIN_KEY")]
    [InlineData("the cluster script misses a setting", "cluster", "", "source deploy/topology.env\n--Urls --Storage:Provider --Storage:ConnectionString --Bus:Transport --Bus:RabbitMq --Ranking:Engine --Ranking:Redis --Admin:ApiKey --Participants:Secret ASPNETCORE_FORWARDEDHEADERS_ENABLED", "Seed__Path")]
    public void EachCheckCanFail(string change, string file, string from, string to, string named)
    {
        var files = ReadFiles();
        string Replace(string text)
        {
            Assert.True(text.Contains(from, StringComparison.Ordinal), $"{change}: '{from}' is no longer in the {file} file; update this case");
            return text.Replace(from, to, StringComparison.Ordinal);
        }
        files = file switch
        {
            "compose" => files with { Compose = Replace(files.Compose) },
            "nginx" => files with { Nginx = Replace(files.Nginx) },
            "dockerfile" => files with { Dockerfile = Replace(files.Dockerfile) },
            "topology" => files with { Topology = Replace(files.Topology) },
            "env" => files with { Env = Replace(files.Env) },
            "cluster" => files with { ClusterScript = to },
            _ => throw new ArgumentException(file),
        };
        var problems = Problems(files, []);
        Assert.True(problems.Any(p => p.Contains(named, StringComparison.Ordinal)),
            $"{change}: no problem names '{named}'; found:\n- " + string.Join("\n- ", problems));
    }

    /// <summary>
    /// `docker compose config` needs no daemon: where a client is installed it validates the file
    /// (schema, interpolation from .env). Where none is, this step says so and passes; the
    /// agreement checks above run everywhere.
    /// </summary>
    [Fact]
    public async Task AComposeClientAcceptsTheFile()
    {
        var root = RepositoryRoot();
        (string File, string[] Args)[] clients = [("docker", ["compose"]), ("docker-compose", [])];
        foreach (var (file, args) in clients)
        {
            var version = await RunAsync(root, file, [.. args, "version"]);
            if (version is not { ExitCode: 0 }) continue;
            var config = await RunAsync(root, file, [.. args, "-f", "docker-compose.yml", "config", "-q"]);
            Assert.True(config is { ExitCode: 0 }, $"{file} {string.Join(' ', args)} config rejects docker-compose.yml:\n{config?.Output}");
            output.WriteLine($"validated by `{file} {string.Join(' ', args)} config`: {version.Value.Output.Split('\n')[0]}");
            return;
        }
        output.WriteLine("skipped `docker compose config`: no compose client here (neither `docker compose` nor `docker-compose`); the agreement checks still ran");
    }

    private static async Task<(int ExitCode, string Output)?> RunAsync(string folder, string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, (await stdout) + (await stderr));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // not installed
        }
    }

    // ------------------------------------------------------------------------------------------

    /// <summary>Every disagreement between the files, as sentences; <paramref name="notes"/> gets what is not a failure.</summary>
    public static List<string> Problems(Files files, List<string> notes)
    {
        var problems = new List<string>();
        Dictionary<string, object> compose;
        try { compose = ParseYaml(files.Compose); }
        catch (FormatException e) { return [$"docker-compose.yml: {e.Message}"]; }
        var topology = ParseEnvFile(files.Topology);
        var env = ParseEnvFile(files.Env);
        var stages = ParseDockerfile(files.Dockerfile);
        var nginx = StripNginxComments(files.Nginx);

        string Topo(string key)
        {
            if (topology.TryGetValue(key, out var value) && value.Length > 0) return value;
            problems.Add($"deploy/topology.env has no {key}");
            return "";
        }
        var nodes = Words(Topo("QUIZ_NODES"));
        var nodePort = Port(Topo("QUIZ_NODE_PORT"));
        var nodeSettings = Words(Topo("QUIZ_NODE_SETTINGS"));
        var secrets = Words(Topo("SHARED_SECRETS"));
        var (nginxService, nginxPort, publicPort) = (Topo("NGINX_SERVICE"), Port(Topo("NGINX_PORT")), Port(Topo("PUBLIC_PORT")));
        var engines = new[] { ("POSTGRES", "postgres"), ("REDIS", "redis"), ("RABBITMQ", "rabbitmq") }
            .ToDictionary(e => e.Item2, e => (Service: Topo(e.Item1 + "_SERVICE"), Port: Port(Topo(e.Item1 + "_PORT"))));
        if (publicPort != 8080) problems.Add($"deploy/topology.env: PUBLIC_PORT is {publicPort}, the platform is promised on http://localhost:8080");

        // --- services
        var services = Map(compose.GetValueOrDefault("services"));
        var built = services.Where(s => At(s.Value, "build") is not null).Select(s => s.Key).ToList();
        if (!built.SequenceEqual(nodes))
            problems.Add($"docker-compose.yml builds the Quiz image for [{string.Join(", ", built)}], deploy/topology.env names the nodes [{string.Join(", ", nodes)}]");
        foreach (var name in engines.Values.Select(e => e.Service).Append(nginxService).Concat(nodes))
            if (name.Length > 0 && !services.ContainsKey(name)) problems.Add($"docker-compose.yml has no service {name} (deploy/topology.env names it)");
        foreach (var node in nodes.Where(services.ContainsKey))
            if (At(services[node], "build", "context") as string is not ("." or "./")) problems.Add($"{node} is not built from the Dockerfile at the top level (build.context .)");

        // --- only nginx publishes; the nodes sit on internal networks only
        var networks = Map(compose.GetValueOrDefault("networks"));
        foreach (var (name, service) in services)
        {
            if (At(service, "ports") is not null && name != nginxService) problems.Add($"{name} publishes a port: only {nginxService} may");
            if (At(service, "network_mode") is not null) problems.Add($"{name} sets network_mode: the services share the compose networks");
        }
        foreach (var node in nodes.Where(services.ContainsKey))
        {
            var joined = Strings(At(services[node], "networks"));
            if (joined.Count == 0) problems.Add($"{node} joins no named network (the default one is not internal)");
            foreach (var network in joined.Where(n => At(networks, n, "internal") as string != "true"))
                problems.Add($"{node} joins the network {network}, which is not internal: the nodes must not be reachable but through nginx");
        }
        if (services.TryGetValue(nginxService, out var nginxSvc))
        {
            var ports = Strings(At(nginxSvc, "ports"));
            var expected = $"{publicPort}:{nginxPort}";
            if (ports.Count != 1 || ports[0] != expected) problems.Add($"{nginxService} publishes [{string.Join(", ", ports)}], expected exactly \"{expected}\" (PUBLIC_PORT:NGINX_PORT, http://localhost:8080)");
            if (!Strings(At(nginxSvc, "volumes")).Any(v => v.StartsWith("./deploy/nginx.conf:/etc/nginx/nginx.conf", StringComparison.Ordinal)))
                problems.Add($"{nginxService} does not mount ./deploy/nginx.conf as /etc/nginx/nginx.conf");
            foreach (var node in nodes.Where(n => At(nginxSvc, "depends_on", n, "condition") as string != "service_healthy"))
                problems.Add($"{nginxService} does not wait for {node} to be healthy (depends_on ... condition: service_healthy)");
        }

        // --- health conditions: every dependency waits for a health check that exists
        foreach (var (name, service) in services)
        {
            foreach (var (dependency, condition) in Map(At(service, "depends_on")))
            {
                if (At(condition, "condition") as string != "service_healthy") { problems.Add($"{name} depends on {dependency} without condition: service_healthy"); continue; }
                var checkedByImage = nodes.Contains(dependency) && stages.Count > 0 && stages[^1].All("HEALTHCHECK").Any();
                if (At(services.GetValueOrDefault(dependency), "healthcheck") is null && !checkedByImage)
                    problems.Add($"{name} waits for {dependency} to be healthy, but {dependency} has no health check");
            }
        }
        foreach (var node in nodes.Where(services.ContainsKey))
            foreach (var engine in engines.Values.Select(e => e.Service).Where(e => At(services[node], "depends_on", e, "condition") as string != "service_healthy"))
                problems.Add($"{node} does not wait for {engine} to be healthy (depends_on ... condition: service_healthy)");

        // --- the nodes' settings: the same everywhere, the topology's list, the names of issue 11
        var nodeEnvs = nodes.Where(services.ContainsKey)
            .Select(n => (Node: n, Env: Map(At(services[n], "environment")).ToDictionary(kv => kv.Key, kv => kv.Value as string ?? "")))
            .ToList();
        foreach (var (node, nodeEnv) in nodeEnvs)
        {
            foreach (var missing in nodeSettings.Except(nodeEnv.Keys)) problems.Add($"{node} lacks the setting {missing} (deploy/topology.env QUIZ_NODE_SETTINGS)");
            foreach (var extra in nodeEnv.Keys.Except(nodeSettings)) problems.Add($"{node} has the setting {extra}, which deploy/topology.env QUIZ_NODE_SETTINGS does not list");
        }
        foreach (var required in RequiredNodeSettings.Except(nodeSettings)) problems.Add($"deploy/topology.env QUIZ_NODE_SETTINGS lacks {required}, a scale-out setting of issues 11 and 13");
        if (nodeEnvs.Count > 0)
        {
            var (first, reference) = nodeEnvs[0];
            foreach (var (node, nodeEnv) in nodeEnvs.Skip(1))
                foreach (var key in reference.Keys.Intersect(nodeEnv.Keys).Where(k => reference[k] != nodeEnv[k]))
                    problems.Add($"{key} differs between {first} ('{reference[key]}') and {node} ('{nodeEnv[key]}'): every node gets the same value");
        }
        var settings = nodeEnvs.Count > 0 ? nodeEnvs[0].Env : [];

        // --- .env: every variable the compose file uses has a value; the shared secrets are variables
        var used = services.Values.SelectMany(s => Map(At(s, "environment")).Values.OfType<string>()).SelectMany(Variables).Distinct().ToList();
        foreach (var variable in used.Concat(secrets).Distinct().Where(v => string.IsNullOrEmpty(env.GetValueOrDefault(v))))
            problems.Add($"the variable {variable} has no value in .env");
        foreach (var key in new[] { "Admin__ApiKey", "Participants__Secret" })
            if (settings.TryGetValue(key, out var value) && !Variables(value).Any(secrets.Contains))
                problems.Add($"{key} is '{value}': it must come from a shared variable in .env (one of {string.Join(", ", secrets)}), not be written in the file");
        string Value(string key) => Interpolate(settings.GetValueOrDefault(key, ""), env);
        string EngineEnv(string engine, string key) => Interpolate(At(services.GetValueOrDefault(engines[engine].Service), "environment", key) as string ?? "", env);

        // --- the values point at the right services and ports
        void Expect(string key, string expected)
        {
            if (settings.ContainsKey(key) && Value(key) != expected) problems.Add($"{key} is '{Value(key)}', expected '{expected}'");
        }
        Expect("Storage__Provider", "Postgres");
        Expect("Bus__Transport", "RabbitMq");
        Expect("Ranking__Engine", "Redis");
        Expect("Ranking__Redis", $"{engines["redis"].Service}:{engines["redis"].Port}");
        Expect("SignalR__Redis", $"{engines["redis"].Service}:{engines["redis"].Port}");
        Expect("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "true");
        if (settings.ContainsKey("Storage__ConnectionString"))
        {
            var parts = Value("Storage__ConnectionString").Split(';', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split('=', 2)).ToDictionary(p => p[0].Trim(), p => p.Length > 1 ? p[1] : "", StringComparer.OrdinalIgnoreCase);
            void Part(string name, string expected)
            {
                if (parts.GetValueOrDefault(name) != expected) problems.Add($"Storage__ConnectionString has {name}={parts.GetValueOrDefault(name)}, expected {expected}");
            }
            Part("Host", engines["postgres"].Service);
            Part("Port", $"{engines["postgres"].Port}");
            Part("Database", EngineEnv("postgres", "POSTGRES_DB"));
            Part("Username", EngineEnv("postgres", "POSTGRES_USER"));
            Part("Password", EngineEnv("postgres", "POSTGRES_PASSWORD"));
        }
        if (settings.ContainsKey("Bus__RabbitMq"))
        {
            if (!Uri.TryCreate(Value("Bus__RabbitMq"), UriKind.Absolute, out var amqp) || amqp.Scheme != "amqp")
                problems.Add($"Bus__RabbitMq '{Value("Bus__RabbitMq")}' is not an amqp:// address");
            else
            {
                if (amqp.Host != engines["rabbitmq"].Service || amqp.Port != engines["rabbitmq"].Port)
                    problems.Add($"Bus__RabbitMq points at {amqp.Host}:{amqp.Port}, expected {engines["rabbitmq"].Service}:{engines["rabbitmq"].Port}");
                var credentials = $"{EngineEnv("rabbitmq", "RABBITMQ_DEFAULT_USER")}:{EngineEnv("rabbitmq", "RABBITMQ_DEFAULT_PASS")}";
                if (Uri.UnescapeDataString(amqp.UserInfo) != credentials) problems.Add("Bus__RabbitMq does not carry the rabbitmq service's user and password");
            }
        }

        // --- the image: SDK and Node to build, the runtime to run, non-root, port, health, data, bank
        if (stages.Count == 0) problems.Add("the Dockerfile has no FROM");
        else
        {
            var runtime = stages[^1];
            if (!runtime.Image.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", StringComparison.Ordinal)) problems.Add($"the Dockerfile runs on {runtime.Image}, expected the ASP.NET Core 10 runtime image");
            if (!stages.Any(s => s.Image.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", StringComparison.Ordinal) && s.All("RUN").Any(r => r.Contains("dotnet publish", StringComparison.Ordinal) && r.Contains("-c Release", StringComparison.Ordinal))))
                problems.Add("no Dockerfile stage publishes in Release on the .NET 10 SDK image");
            if (!stages.Any(s => s.Image.StartsWith("node:20", StringComparison.Ordinal))) problems.Add("the Dockerfile takes no Node 20 for the web pages");
            var user = runtime.All("USER").LastOrDefault();
            if (user is null or "root" or "0" or "0:0") problems.Add($"the runtime stage's USER is {user ?? "not set (root)"}: run as a non-root user");
            var imageEnv = runtime.Environment();
            var effective = new Dictionary<string, string>(imageEnv);
            foreach (var key in settings.Keys) effective[key] = Value(key);

            var exposed = runtime.All("EXPOSE").SelectMany(Words).Select(p => Port(p.Split('/')[0])).ToList();
            if (exposed.Count != 1 || exposed[0] != nodePort) problems.Add($"the Dockerfile EXPOSEs [{string.Join(", ", exposed)}], expected QUIZ_NODE_PORT {nodePort}");
            var health = runtime.All("HEALTHCHECK").LastOrDefault() ?? "";
            if (!health.Contains($"127.0.0.1:{nodePort}/healthz", StringComparison.Ordinal) && !health.Contains($"localhost:{nodePort}/healthz", StringComparison.Ordinal))
                problems.Add($"the Dockerfile's HEALTHCHECK ('{health}') does not ask /healthz on port {nodePort}");
            foreach (var (where, urls) in new[] { ("the Dockerfile's ENV Urls", imageEnv.GetValueOrDefault("Urls")), ("the nodes' Urls", settings.ContainsKey("Urls") ? Value("Urls") : null) })
            {
                if (urls is null) { problems.Add($"{where} is not set (appsettings.json says localhost:5000, unreachable from nginx)"); continue; }
                var listens = urls.Split(';').Select(u => Uri.TryCreate(u.Replace("+", "0.0.0.0", StringComparison.Ordinal).Replace("*", "0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri) ? uri : null).ToList();
                if (listens.Any(u => u is null || u.Port != nodePort || u.Host is "localhost" or "127.0.0.1"))
                    problems.Add($"{where} is '{urls}': expected every address on all interfaces, port {nodePort} (QUIZ_NODE_PORT)");
            }

            // The data folder: the volume the image declares, the one compose mounts, the setting.
            var workdir = runtime.All("WORKDIR").LastOrDefault() ?? "/";
            var dataDir = effective.GetValueOrDefault("Storage__DataDir", "./data");
            var dataPath = dataDir.StartsWith('/') ? dataDir.TrimEnd('/') : Path.Combine(workdir, dataDir).Replace("/./", "/", StringComparison.Ordinal).TrimEnd('/');
            var volumes = runtime.All("VOLUME").SelectMany(v => Words(v.Trim('[', ']').Replace("\"", "", StringComparison.Ordinal).Replace(",", " ", StringComparison.Ordinal))).ToList();
            if (!volumes.Contains(dataPath)) problems.Add($"the Dockerfile's VOLUME [{string.Join(", ", volumes)}] is not the data folder {dataPath} (Storage:DataDir)");
            foreach (var node in nodes.Where(services.ContainsKey))
            {
                var mounts = Strings(At(services[node], "volumes")).Select(v => v.Split(':')).Where(v => v.Length >= 2).ToList();
                if (!mounts.Any(m => m[1].TrimEnd('/') == dataPath && !m[0].StartsWith('.') && !m[0].StartsWith('/')))
                    problems.Add($"{node} mounts no named volume on the data folder {dataPath}");
                var named = mounts.Where(m => m[1].TrimEnd('/') == dataPath).Select(m => m[0]);
                foreach (var volume in named.Where(v => !Map(compose.GetValueOrDefault("volumes")).ContainsKey(v)))
                    problems.Add($"{node} mounts the volume {volume}, which the top-level volumes do not declare");
            }
            if (nodeEnvs.Select(n => Strings(At(services[n.Node], "volumes")).FirstOrDefault(v => v.EndsWith(":" + dataPath, StringComparison.Ordinal))).Distinct().Count() != nodeEnvs.Count)
                problems.Add("two nodes share one data volume: each node keeps its own data folder");

            // The question bank: copied into the image where Seed:Path looks.
            var seed = effective.GetValueOrDefault("Seed__Path", "");
            var copies = runtime.All("COPY").Select(Words).Where(w => w.Length == 2 && w[0].TrimEnd('/') == "question-bank")
                .Select(w => w[1].StartsWith('/') ? w[1] : Path.Combine(workdir, w[1]).Replace("/./", "/", StringComparison.Ordinal)).Select(p => p.TrimEnd('/')).ToList();
            if (!copies.Contains(seed.TrimEnd('/'))) problems.Add($"the Dockerfile copies question-bank/ to [{string.Join(", ", copies)}], but Seed:Path is '{seed}'");
            if (!runtime.All("ENTRYPOINT").Concat(runtime.All("CMD")).Any(e => e.Contains("Quiz.Server.dll", StringComparison.Ordinal)))
                problems.Add("the runtime stage does not start Quiz.Server.dll");
        }
        foreach (var needed in new[] { "src", "question-bank", "global.json", "Directory.Packages.props" })
            if (files.DockerIgnore.Split('\n').Select(l => l.Trim().TrimEnd('/')).Contains(needed)) problems.Add($".dockerignore leaves out {needed}, which the image build needs");
        if (!files.DockerIgnore.Split('\n').Select(l => l.Trim()).Contains(".env")) problems.Add(".dockerignore does not leave out .env: the secrets would be sent to the build");

        // --- nginx: the upstream is the nodes on their port, sticky, passively health-checked
        var http = NginxBlock(nginx, "http") ?? "";
        var server = NginxBlock(http, "server") ?? "";
        var hubs = NginxBlock(server, "location /hubs/");
        var rest = NginxBlock(server, "location /");
        var httpDirectives = NginxDirectives(http);
        var serverDirectives = NginxDirectives(server);
        if (server.Length == 0) problems.Add("deploy/nginx.conf has no http { server { ... } }");
        var listen = serverDirectives.FirstOrDefault(d => d[0] == "listen");
        if (listen is null || Port(listen.ElementAtOrDefault(1) ?? "") != nginxPort) problems.Add($"nginx's listen is '{string.Join(' ', listen ?? [])}', expected NGINX_PORT {nginxPort}");
        if (hubs is null) problems.Add("deploy/nginx.conf has no location /hubs/ (the SignalR hubs)");
        if (rest is null) problems.Add("deploy/nginx.conf has no location / (the pages and the API)");
        var upstreamName = hubs is null ? null : NginxDirectives(hubs).FirstOrDefault(d => d[0] == "proxy_pass")?.ElementAtOrDefault(1)?.Replace("http://", "", StringComparison.Ordinal).TrimEnd('/');
        var upstream = upstreamName is null ? null : NginxBlock(http, "upstream " + upstreamName);
        if (upstream is null) problems.Add($"location /hubs/ does not proxy to an upstream block (proxy_pass http://{upstreamName})");
        else
        {
            var upstreamDirectives = NginxDirectives(upstream);
            if (!upstreamDirectives.Any(d => d is ["ip_hash"])) problems.Add("the nginx upstream is not sticky by client address (ip_hash): SignalR's negotiate and connection must reach one node");
            var members = upstreamDirectives.Where(d => d[0] == "server").ToList();
            var hosts = members.Select(d => d.ElementAtOrDefault(1)?.Split(':')[0]).ToList();
            if (!hosts.SequenceEqual(nodes)) problems.Add($"the nginx upstream balances over [{string.Join(", ", hosts)}], the nodes are [{string.Join(", ", nodes)}]");
            foreach (var member in members)
            {
                var address = member.ElementAtOrDefault(1) ?? "";
                if (Port(address.Split(':').ElementAtOrDefault(1) ?? "") != nodePort) problems.Add($"the nginx upstream server {address} is not on QUIZ_NODE_PORT {nodePort}");
                if (!member.Any(w => w.StartsWith("max_fails=", StringComparison.Ordinal)) || !member.Any(w => w.StartsWith("fail_timeout=", StringComparison.Ordinal)))
                    problems.Add($"the nginx upstream server {address} has no max_fails/fail_timeout (its passive health check)");
            }
        }
        foreach (var (path, block) in new[] { ("/hubs/", hubs), ("/", rest) })
        {
            if (block is null) continue;
            var directives = NginxDirectives(block);
            if (directives.FirstOrDefault(d => d[0] == "proxy_pass")?.ElementAtOrDefault(1)?.Replace("http://", "", StringComparison.Ordinal).TrimEnd('/') != upstreamName)
                problems.Add($"location {path} does not proxy to the upstream {upstreamName}");
            foreach (var header in new[] { "Host", "X-Forwarded-For", "X-Forwarded-Proto" })
                if (NginxHeader(directives, header) is null) problems.Add($"location {path} does not pass {header} (a location that sets any proxy header inherits none)");
            if (NginxHeader(directives, "X-Forwarded-For") is { } xff && xff != "$remote_addr")
                problems.Add($"location {path} passes X-Forwarded-For {xff}: set it to $remote_addr, or a client can choose the address its rate limits count");
        }
        if (hubs is not null)
        {
            var directives = NginxDirectives(hubs);
            var version = directives.Concat(serverDirectives).Concat(httpDirectives).FirstOrDefault(d => d[0] == "proxy_http_version");
            if (version?.ElementAtOrDefault(1) != "1.1") problems.Add("location /hubs/ is not proxied over HTTP/1.1 (proxy_http_version 1.1), which a WebSocket upgrade needs");
            if (NginxHeader(directives, "Upgrade") != "$http_upgrade") problems.Add("location /hubs/ does not pass the Upgrade header (proxy_set_header Upgrade $http_upgrade): WebSockets would not upgrade");
            var connection = NginxHeader(directives, "Connection");
            var mapped = connection is not null && connection.StartsWith('$') && NginxBlock(http, @"map\s+\$http_upgrade\s+\" + connection) is { } map
                && NginxDirectives(map).Any(d => d is ["default", "upgrade"]);
            if (connection != "upgrade" && !mapped) problems.Add($"location /hubs/ passes Connection '{connection}': it must say upgrade (directly or through a map of $http_upgrade)");
            if (!directives.Any(d => d is ["proxy_buffering", "off"])) problems.Add("location /hubs/ buffers responses (proxy_buffering off for server-sent events and long polling)");
        }

        // --- live sessions: every connection of a room reaches the node that runs it (docs/live.md)
        var live = NginxBlock(server, "location /hubs/live");
        if (live is null) problems.Add("deploy/nginx.conf has no location /hubs/live (live sessions' rooms, routed by ?room=)");
        else
        {
            var liveDirectives = NginxDirectives(live);
            var liveName = liveDirectives.FirstOrDefault(d => d[0] == "proxy_pass")?.ElementAtOrDefault(1)?.Replace("http://", "", StringComparison.Ordinal).TrimEnd('/');
            var liveUpstream = liveName is null ? null : NginxBlock(http, "upstream " + liveName);
            var members = liveUpstream is null ? [] : NginxDirectives(liveUpstream).Where(d => d[0] == "server").Select(d => d.ElementAtOrDefault(1)?.Split(':')[0]).ToList();
            if (liveUpstream is null || !NginxDirectives(liveUpstream).Any(d => d is ["hash", "$arg_room", "consistent"]))
                problems.Add("location /hubs/live does not proxy to an upstream hashed by the room (hash $arg_room consistent): a room's phones would reach different nodes");
            else if (!members.SequenceEqual(nodes)) problems.Add($"the live upstream balances over [{string.Join(", ", members)}], the nodes are [{string.Join(", ", nodes)}]");
            if (NginxHeader(liveDirectives, "Upgrade") != "$http_upgrade") problems.Add("location /hubs/live does not pass the Upgrade header");
            if (NginxHeader(liveDirectives, "X-Forwarded-For") != "$remote_addr") problems.Add("location /hubs/live does not set X-Forwarded-For to $remote_addr");
            if (!liveDirectives.Any(d => d is ["proxy_buffering", "off"])) problems.Add("location /hubs/live buffers responses");
        }

        // --- the cluster script of issue 13, once it exists, reads the same list and settings
        if (files.ClusterScript is { } script)
        {
            if (!script.Contains("topology.env", StringComparison.Ordinal)) problems.Add("deploy/cluster.sh does not read deploy/topology.env");
            foreach (var key in nodeSettings.Where(k => !script.Contains(k, StringComparison.Ordinal) && !script.Contains(k.Replace("__", ":", StringComparison.Ordinal), StringComparison.Ordinal)))
                problems.Add($"deploy/cluster.sh does not give its nodes {key} (deploy/topology.env QUIZ_NODE_SETTINGS)");
        }
        else notes.Add("deploy/cluster.sh does not exist yet (issue 13): its agreement with deploy/topology.env is checked once it does");

        // --- every setting is one the server reads
        problems.AddRange(UnreadSettings(settings.Keys.Where(k => !HostSettings.Contains(k)).ToDictionary(k => k, Value), notes));
        return problems;
    }

    /// <summary>
    /// Binds the nodes' settings to the options classes the server binds, refusing any key the
    /// class has no property for (ErrorOnUnknownConfiguration), and validates the ranking's.
    /// </summary>
    private static List<string> UnreadSettings(Dictionary<string, string> settings, List<string> notes)
    {
        var problems = new List<string>();
        var sections = new Dictionary<string, Type?>(StringComparer.OrdinalIgnoreCase)
        {
            [StorageOptions.Section] = typeof(StorageOptions),
            ["Bus"] = OptionsOfSection("Bus"),
            ["Ranking"] = typeof(RankingOptions),
            [AdminOptions.Section] = typeof(AdminOptions),
            [ParticipantOptions.Section] = typeof(ParticipantOptions),
            [SeedOptions.Section] = typeof(SeedOptions),
            [Quiz.Server.Play.SignalROptions.Section] = typeof(Quiz.Server.Play.SignalROptions),
            [Quiz.Server.Play.RoundsOptions.Section] = typeof(Quiz.Server.Play.RoundsOptions),
        };
        var bySection = settings.Select(kv => (Key: kv.Key.Replace("__", ":", StringComparison.Ordinal), kv.Value))
            .GroupBy(kv => kv.Key.Split(':')[0], StringComparer.OrdinalIgnoreCase);
        foreach (var group in bySection)
        {
            if (!sections.TryGetValue(group.Key, out var type))
            {
                problems.AddRange(group.Select(kv => $"{kv.Key}: the server binds no section {group.Key}"));
                continue;
            }
            var bindable = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var (key, value) in group)
            {
                var property = key.Split(':')[1];
                var known = type?.GetProperty(property, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is not null;
                if (!known && AwaitedSettings.Contains(key)) notes.Add($"{key}: awaited from the {group.Key} work of issue 11; {(type is null ? $"no options class binds {group.Key} yet" : $"{type.Name} has no {property} yet")}");
                else bindable[key] = value;
            }
            if (bindable.Count == 0) continue;
            if (type is null)
            {
                problems.AddRange(bindable.Keys.Select(k => $"{k}: no options class of the server binds the section {group.Key}"));
                continue;
            }
            try
            {
                var bound = new ConfigurationBuilder().AddInMemoryCollection(bindable).Build()
                    .GetSection(group.Key).Get(type, o => o.ErrorOnUnknownConfiguration = true);
                if (bound is RankingOptions ranking) ranking.Validate();
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                problems.Add($"the server does not read [{string.Join(", ", bindable.Keys)}] into {type.Name}: {e.Message}");
            }
        }
        return problems;
    }

    /// <summary>The server's options class whose `Section` constant names this section, if any yet.</summary>
    private static Type? OptionsOfSection(string section) =>
        typeof(StorageOptions).Assembly.GetTypes().FirstOrDefault(t =>
            t.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field && (string?)field.GetValue(null) == section);
}
