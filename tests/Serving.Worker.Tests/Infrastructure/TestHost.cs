using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Serving.Worker.Tests.Infrastructure;

/// <summary>
/// One test's serving layout: a short temp directory (Unix socket paths are limited to ~100
/// bytes), a host.json pointing at this test assembly's <see cref="TestRunner"/>, and the worker
/// processes started for it, all killed and deleted on dispose.
/// </summary>
public sealed class TestHost : IDisposable
{
    public const string RunnerName = "test";
    public const string Secret = "0123456789abcdef0123456789abcdef";

    private readonly List<WorkerProcess> _workers = [];

    public TestHost()
    {
        Directory = Path.Combine("/tmp", "swt-" + Guid.NewGuid().ToString("N")[..10]);
        System.IO.Directory.CreateDirectory(Directory);
        SocketPath = Path.Combine(Directory, "test.sock");
        ConfigPath = Path.Combine(Directory, "host.json");
    }

    public string Directory { get; }
    public string SocketPath { get; }
    public string ConfigPath { get; }

    /// <summary>The API routes of the default host.json: route, method, input, output.</summary>
    public static readonly (string Route, string Method, string Input, string Output)[] DefaultApis =
    [
        ("/echo", "echo", "Bytes", "Bytes"),
        ("/reverse", "reverse", "Bytes", "Bytes"),
        ("/upper", "upper", "Text", "Text"),
        ("/sum", "sum", "Json", "Json"),
        ("/bad", "bad", "Text", "Text"),
        ("/fail", "fail", "Text", "Text"),
        ("/slow", "slow", "Text", "Text"),
        ("/whoami", "whoami", "Text", "Text"),
        ("/split", "split", "Text", "Json"),
        ("/nan", "nan", "Text", "Json"),
        ("/slowbatch", "slowbatch", "Text", "Text"),
        ("/block", "block", "Text", "Text"),
        // A JSON API over a method taking raw bytes: nothing parses the body, so the runner checks it is JSON.
        ("/echojson", "echo", "Json", "Json"),
    ];

    /// <summary>
    /// Writes host.json (or <paramref name="path"/>). <paramref name="tcpPort"/>: the runner endpoint is
    /// Tcp on that port instead of the Unix socket. <paramref name="protocol"/>: Http or Grpc.
    /// </summary>
    public void WriteConfig(int requestTimeoutSeconds = 5, long maxRequestBodyBytes = 1024 * 1024, int? tcpPort = null,
        string runnerType = "Serving.Worker.Tests.TestRunner", Dictionary<string, string>? runnerEnvironment = null,
        IEnumerable<(string Route, string Method, string Input, string Output)>? apis = null, int workers = 1,
        string? assemblyPath = null, int? maxMessageBytes = null, int? maxConcurrentStreams = null,
        string protocol = "Http", string? path = null, string? logFormat = null, string? logLevel = null)
    {
        var apiArray = new JsonArray();
        foreach (var (route, method, input, output) in apis ?? DefaultApis)
            apiArray.Add(new JsonObject { ["route"] = route, ["runner"] = RunnerName, ["method"] = method, ["input"] = input, ["output"] = output });

        var runner = new JsonObject { ["name"] = RunnerName, ["type"] = runnerType, ["workers"] = workers };
        if (runnerEnvironment is not null)
        {
            var env = new JsonObject();
            foreach (var (k, v) in runnerEnvironment)
                env[k] = v;
            runner["environment"] = env;
        }

        var config = new JsonObject
        {
            ["hostId"] = "test",
            ["hostName"] = "test",
            ["protocol"] = protocol,
            ["serviceDirectory"] = Directory,
            ["service"] = new JsonObject
            {
                ["name"] = "test",
                ["assemblies"] = new JsonArray(assemblyPath ?? typeof(TestRunner).Assembly.Location),
                ["runners"] = new JsonArray(runner),
                ["apis"] = apiArray,
            },
            ["runnerEndpoints"] = new JsonObject
            {
                [RunnerName] = tcpPort is { } port
                    ? new JsonObject { ["transport"] = "Tcp", ["address"] = $"127.0.0.1:{port}" }
                    : new JsonObject { ["transport"] = "Uds", ["address"] = SocketPath },
            },
            ["runnerSecret"] = Secret,
            ["requestTimeoutSeconds"] = requestTimeoutSeconds,
            ["maxRequestBodyBytes"] = maxRequestBodyBytes,
        };
        if (maxMessageBytes is { } m)
            config["maxMessageBytes"] = m;
        if (maxConcurrentStreams is { } c)
            config["maxConcurrentStreams"] = c;
        if (logFormat is not null)
            config["logFormat"] = logFormat;
        if (logLevel is not null)
            config["logLevel"] = logLevel;
        File.WriteAllText(path ?? ConfigPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    public WorkerProcess StartRunner(string? listen = null, int index = 1, int? listenFd = null, IDictionary<string, string>? environment = null)
    {
        var args = new List<string> { "--role", "runner", "--runner", RunnerName, "--config", ConfigPath, "--index", index.ToString() };
        AddListen(args, listen ?? "unix:" + SocketPath, listenFd);
        return Track(WorkerProcess.Start($"runner-{index}", args, listenFd, environment));
    }

    public WorkerProcess StartApi(string? listen, int index = 1, int? listenFd = null, bool reusePort = false, string? configPath = null) =>
        StartRole("api", listen, index, listenFd, reusePort, configPath);

    public WorkerProcess StartRole(string role, string? listen, int index = 1, int? listenFd = null, bool reusePort = false, string? configPath = null)
    {
        var args = new List<string> { "--role", role, "--config", configPath ?? ConfigPath, "--index", index.ToString() };
        AddListen(args, listen, listenFd);
        if (reusePort)
        {
            args.Add("--reuse-port");
            args.Add("true");
        }
        return Track(WorkerProcess.Start($"{role}-{index}", args, listenFd));
    }

    /// <summary>A runner worker (Unix socket) and an API worker on a free port, both ready.</summary>
    public async Task<(WorkerProcess Runner, WorkerProcess Api, int Port)> StartRunnerAndApiAsync()
    {
        var port = FreeTcpPort();
        var runner = StartRunner();
        var api = StartApi($"http://127.0.0.1:{port}");
        await Task.WhenAll(runner.WaitReadyAsync(), api.WaitReadyAsync());
        return (runner, api, port);
    }

    public WorkerProcess StartRaw(string name, params string[] args) => Track(WorkerProcess.Start(name, args));

    private static void AddListen(List<string> args, string? listen, int? listenFd)
    {
        if (listenFd is { } fd)
        {
            args.Add("--listen-fd");
            args.Add(fd.ToString());
        }
        else if (listen is not null)
        {
            args.Add("--listen");
            args.Add(listen);
        }
    }

    private WorkerProcess Track(WorkerProcess worker)
    {
        lock (_workers)
            _workers.Add(worker);
        return worker;
    }

    public static int FreeTcpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public static HttpClient Client(int port, TimeSpan? timeout = null) => new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{port}"),
        Timeout = timeout ?? TimeSpan.FromSeconds(20),
    };

    public static ByteArrayContent Body(string text, string contentType = "text/plain")
    {
        var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(text));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes.</summary>
    public static async Task Eventually(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition())
                    return;
            }
            catch (HttpRequestException)
            {
            }
            if (watch.Elapsed > timeout)
                throw new TimeoutException($"not true within {timeout.TotalSeconds} s: {what}");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        lock (_workers)
        {
            foreach (var w in _workers)
                w.Dispose();
            _workers.Clear();
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
