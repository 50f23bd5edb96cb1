using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using Serving.Grpc.V1;

namespace Serving.Worker.Tests.Infrastructure;

/// <summary>Clients of a worker's gRPC front door (serving.v1, generated from module/proto/serving.proto).</summary>
public static class FrontDoorClient
{
    public const string WorkerHeader = "x-serving-worker";

    /// <summary>A channel on its own handler: its calls share one new HTTP/2 connection.</summary>
    public static GrpcChannel Channel(int port) =>
        GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) },
            DisposeHttpClient = true,
        });

    public static global::Serving.Grpc.V1.Serving.ServingClient Client(GrpcChannel channel) => new(channel);

    public static CallRequest Data(string api, byte[] data) => new() { Api = api, Data = Google.Protobuf.ByteString.CopyFrom(data) };

    public static CallRequest Text(string api, string text) => new() { Api = api, Text = text };

    public static CallRequest Json(string api, string json) => new() { Api = api, Json = Google.Protobuf.ByteString.CopyFromUtf8(json) };

    /// <summary>The worker that answered, from the response headers (initial metadata).</summary>
    public static async Task<string?> WorkerOf<T>(AsyncUnaryCall<T> call) => (await call.ResponseHeadersAsync).GetValue(WorkerHeader);

    /// <summary>Calls and expects an error status; returns it with the worker header seen.</summary>
    public static async Task<(RpcException Error, string? Worker)> Fails(global::Serving.Grpc.V1.Serving.ServingClient client, CallRequest request, StatusCode expected, CallOptions options = default)
    {
        using var call = client.CallAsync(request, options);
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.True(expected == error.StatusCode, $"expected {expected}, got {error.StatusCode}: {error.Status.Detail}");
        ClientText.AssertClean(error.Status.Detail);
        string? worker;
        try
        {
            worker = (await call.ResponseHeadersAsync).GetValue(WorkerHeader);
        }
        catch (RpcException)
        {
            worker = null;
        }
        return (error, worker);
    }

    /// <summary>The error id and request id a front door error carries in its trailers.</summary>
    public static (string? ErrorId, string? RequestId) ProblemOf(RpcException error) =>
        (error.Trailers.GetValue("x-serving-error-id"), error.Trailers.GetValue("x-serving-request-id"));

    /// <summary>Listening IPv4 TCP sockets on <paramref name="port"/> (from /proc/net/tcp).</summary>
    public static int ListeningSockets(int port)
    {
        var count = 0;
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 4 || fields[3] != "0A")
                continue;
            var local = fields[1];
            if (int.Parse(local[(local.IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
                count++;
        }
        return count;
    }
}
