using System.Net;
using System.Net.Sockets;
using System.Text;
using Serving.Worker.Hosting;

namespace Serving.Worker.Transport;

// Opening a connection: connect, hello (with the secret on Tcp), welcome.
internal sealed partial class RunnerConnection
{
    /// <summary>Connects, says hello (with the secret on Tcp) and waits for the welcome.</summary>
    public static async Task<RunnerConnection> ConnectAsync(RunnerEndpointConfig endpoint, string? secret, long maxReply, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Socket socket;
        EndPoint target;
        if (endpoint.TransportKind == RunnerTransport.Uds)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            target = new UnixDomainSocketEndPoint(endpoint.Address!);
        }
        else
        {
            var ip = IPEndPoint.Parse(endpoint.Address!);
            socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            target = ip;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        RunnerConnection? connection = null;
        try
        {
            await socket.ConnectAsync(target, deadline.Token).ConfigureAwait(false);
            connection = new RunnerConnection(socket, maxReply);
            var writer = connection._sender.Enter();
            try
            {
                RunnerFrames.WriteHello(writer, endpoint.TransportKind == RunnerTransport.Tcp ? secret ?? "" : null);
            }
            finally
            {
                connection._sender.Exit();
            }
            await connection.ReadWelcomeAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or RunnerConnectException or ProtocolViolationException)
        {
            socket.Dispose();
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
                throw;
            throw ex switch
            {
                RunnerConnectException refused => refused,
                OperationCanceledException => new RunnerConnectException($"no welcome from {endpoint.Address} within {timeout.TotalSeconds:0.#} s"),
                SocketException socketError => new RunnerConnectException($"cannot connect to {endpoint.Address}: {socketError.SocketErrorCode}", ex),
                _ => new RunnerConnectException($"cannot connect to {endpoint.Address}: {ex.Message}", ex),
            };
        }
        _ = connection.ReadLoopAsync();
        return connection;
    }

    private async Task ReadWelcomeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_reader.TryTake(64 * 1024, out var type, out _, out var payload))
            {
                if (type == FrameType.Error)
                    throw new RunnerConnectException("the runner refused the connection: " + Encoding.UTF8.GetString(payload.Span));
                if (type != FrameType.Welcome || payload.Length < 6)
                    throw new RunnerConnectException($"the runner answered the hello with frame type {(byte)type}");
                Worker = Encoding.UTF8.GetString(payload.Span[6..]);
                _reader.Release();
                return;
            }
            if (!await _reader.ReceiveAsync(cancellationToken).ConfigureAwait(false))
                throw new RunnerConnectException("the runner closed the connection before its welcome");
        }
    }
}
