using Microsoft.AspNetCore.Connections;

namespace Serving.Worker.Transport;

/// <summary>Kestrel's connection handler for a runner endpoint: one <see cref="RunnerSession"/> per connection.</summary>
internal sealed class RunnerConnectionHandler(RunnerEndpointService service) : ConnectionHandler
{
    public override Task OnConnectedAsync(ConnectionContext connection) => new RunnerSession(connection, service).RunAsync();
}
