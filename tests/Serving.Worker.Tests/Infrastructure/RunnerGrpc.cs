using System.Net.Sockets;
using Grpc.Net.Client;

namespace Serving.Worker.Tests.Infrastructure;

/// <summary>Direct gRPC channels to a runner worker, bypassing the API worker.</summary>
public static class RunnerGrpc
{
    public static GrpcChannel Unix(string socketPath) =>
        GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, ct) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            },
        });

    public static GrpcChannel Tcp(int port) => GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
}
