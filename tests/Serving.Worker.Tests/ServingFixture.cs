using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

/// <summary>One runner worker (Unix socket) and one API worker shared by the request tests.</summary>
public sealed class ServingFixture : IAsyncLifetime
{
    public TestHost Host { get; } = new();
    public WorkerProcess Runner { get; private set; } = null!;
    public WorkerProcess Api { get; private set; } = null!;
    public int Port { get; } = TestHost.FreeTcpPort();
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host.WriteConfig(requestTimeoutSeconds: 2, maxRequestBodyBytes: 1024 * 1024);
        Runner = Host.StartRunner();
        Api = Host.StartApi($"http://127.0.0.1:{Port}");
        await Task.WhenAll(Runner.WaitReadyAsync(), Api.WaitReadyAsync());
        Client = TestHost.Client(Port);
    }

    public Task DisposeAsync()
    {
        Client?.Dispose();
        Host.Dispose();
        return Task.CompletedTask;
    }
}
