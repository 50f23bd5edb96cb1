using System.Net;
using System.Net.Sockets;
using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

/// <summary>Exit codes 2 (command line / host.json), 3 (service load), 4 (cannot listen).</summary>
public class ExitCodeTests
{
    private static async Task<WorkerProcess> ExpectExit(WorkerProcess worker, int code, string stderrFragment)
    {
        var exit = await worker.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.True(exit == code, $"exit {exit}, expected {code}:\n{worker.Output}");
        Assert.Contains(worker.Lines, l => l.StartsWith("[err] ") && l.Contains(stderrFragment));
        return worker;
    }

    [Theory]
    [InlineData(new[] { "--config", "x.json", "--listen", "http://127.0.0.1:1" }, "--role is required")]
    [InlineData(new[] { "--role", "boss", "--config", "x.json", "--listen", "http://127.0.0.1:1" }, "unknown role 'boss'")]
    [InlineData(new[] { "--role", "api", "--config", "x.json" }, "--listen-fd or --listen is required")]
    [InlineData(new[] { "--role", "api", "--config", "x.json", "--listen", "ftp://x" }, "is not http://IP:PORT")]
    [InlineData(new[] { "--role", "runner", "--config", "x.json", "--listen", "unix:/tmp/x.sock" }, "--runner is required")]
    [InlineData(new[] { "--role", "api", "--config", "x.json", "--index", "0", "--listen", "http://127.0.0.1:1" }, "--index must be a positive integer")]
    [InlineData(new[] { "--role", "api", "--config", "x.json", "--bogus", "1" }, "unknown argument '--bogus'")]
    public async Task Bad_command_lines_exit_2(string[] args, string message)
    {
        using var host = new TestHost();
        await ExpectExit(host.StartRaw("bad-args", args), 2, message);
    }

    [Fact]
    public async Task Unreadable_or_invalid_host_json_exits_2()
    {
        using var host = new TestHost();
        await ExpectExit(host.StartRaw("missing", "--role", "api", "--config", Path.Combine(host.Directory, "nope.json"), "--listen", "http://127.0.0.1:1"), 2, "cannot read host.json");

        File.WriteAllText(host.ConfigPath, "{ not json");
        await ExpectExit(host.StartRaw("invalid", "--role", "api", "--config", host.ConfigPath, "--listen", "http://127.0.0.1:1"), 2, "is not valid");

        host.WriteConfig();
        await ExpectExit(host.StartRaw("no-runner", "--role", "runner", "--runner", "ghost", "--config", host.ConfigPath, "--listen", "unix:" + host.SocketPath), 2, "no runner named 'ghost'");
    }

    [Fact]
    public async Task Missing_assembly_type_or_method_exits_3()
    {
        using var host = new TestHost();
        host.WriteConfig(assemblyPath: Path.Combine(host.Directory, "Missing.dll"));
        await ExpectExit(host.StartRunner(), 3, "does not exist");

        host.WriteConfig(runnerType: "Serving.Worker.Tests.NoSuchRunner");
        await ExpectExit(host.StartRunner(), 3, "type 'Serving.Worker.Tests.NoSuchRunner' was not found");

        host.WriteConfig(runnerType: "Serving.Worker.Tests.Infrastructure.TestHost");
        await ExpectExit(host.StartRunner(), 3, "does not derive from Serving.Abstractions.Runner");

        host.WriteConfig(runnerType: "Serving.Worker.Tests.VoidRunner");
        await ExpectExit(host.StartRunner(), 3, "must return a value");

        host.WriteConfig(apis: [("/x", "nosuchmethod", "Bytes", "Bytes")]);
        await ExpectExit(host.StartRunner(), 3, "has no method 'nosuchmethod'");
    }

    [Fact]
    public async Task InitializeAsync_throwing_exits_3()
    {
        using var host = new TestHost();
        host.WriteConfig(runnerEnvironment: new() { ["FAIL_INIT"] = "1" });
        var runner = await ExpectExit(host.StartRunner(), 3, "InitializeAsync threw InvalidOperationException: initialisation failed on purpose");
        Assert.DoesNotContain("@@serving ready", runner.Lines);
    }

    [Fact]
    public async Task Cannot_listen_exits_4()
    {
        using var host = new TestHost();
        host.WriteConfig();
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen(1);
        var port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        await ExpectExit(host.StartApi($"http://127.0.0.1:{port}"), 4, "cannot listen");

        await ExpectExit(host.StartRunner("unix:" + Path.Combine(host.Directory, "no", "such", "dir.sock")), 4, "cannot listen");
    }

    [Fact]
    public async Task A_stale_socket_file_is_replaced_but_a_live_one_is_not()
    {
        using var host = new TestHost();
        host.WriteConfig();

        // Stale: a socket file nobody listens on (moved away from the socket that made it, which
        // would delete its own path when disposed).
        var temporary = Path.Combine(host.Directory, "tmp.sock");
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(temporary));
            File.Move(temporary, host.SocketPath);
        }
        Assert.True(File.Exists(host.SocketPath));
        var runner = host.StartRunner();
        await runner.WaitReadyAsync();

        // Live: a second runner on the same path must not steal it.
        await ExpectExit(host.StartRunner(index: 2), 4, "another process is listening");

        // Not a socket: left alone.
        var file = Path.Combine(host.Directory, "file.sock");
        File.WriteAllText(file, "keep me");
        await ExpectExit(host.StartRunner("unix:" + file, index: 3), 4, "cannot listen");
        Assert.Equal("keep me", File.ReadAllText(file));
    }
}
