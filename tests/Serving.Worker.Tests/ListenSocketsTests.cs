using System.Net;
using System.Net.Sockets;
using System.Text;
using Serving.Worker.HttpFrontDoor;
using Serving.Worker.Hosting;

namespace Serving.Worker.Tests;

/// <summary>The listening sockets of a draining worker: new handshakes dropped, queued connections answered, never reset.</summary>
public class ListenSocketsTests
{
    [Fact]
    public async Task A_connection_waiting_in_the_accept_queue_at_the_close_gets_a_503_and_a_clean_close()
    {
        var sockets = new ListenSockets { AnswerLateConnection = LateConnectionAnswer.For("api-9") };
        var listener = sockets.Track(ListenSockets.CreateListenSocket)(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        // Completed by the kernel, never accepted by anyone: exactly what a close would reset.
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await client.SendAsync(Encoding.ASCII.GetBytes("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"), SocketFlags.None);

        await sockets.StopAcceptingAsync().WaitAsync(TimeSpan.FromSeconds(10));

        var answer = new StringBuilder();
        var buffer = new byte[4096];
        int n;
        while ((n = await client.ReceiveAsync(buffer, SocketFlags.None)) > 0) // a reset would throw here
            answer.Append(Encoding.ASCII.GetString(buffer, 0, n));
        var text = answer.ToString();
        Assert.StartsWith("HTTP/1.1 503 Service Unavailable\r\n", text);
        Assert.Contains("Connection: close\r\n", text);
        Assert.Contains("Retry-After: 1\r\n", text);
        Assert.Contains("\"errorId\":\"Stopping\"", text);
        Assert.Contains("x-serving-worker: api-9", text);

        // The listener is closed: the port refuses.
        using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => late.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task An_http2_connection_waiting_in_the_accept_queue_gets_a_GOAWAY_that_says_no_stream_was_processed()
    {
        var sockets = new ListenSockets { AnswerLateConnection = LateConnectionAnswer.ForHttp2() };
        var listener = sockets.Track(ListenSockets.CreateListenSocket)(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        // A gRPC client's first bytes: the connection preface, then (here, only) a SETTINGS frame.
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await client.SendAsync(Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").Concat(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 }).ToArray(), SocketFlags.None);

        await sockets.StopAcceptingAsync().WaitAsync(TimeSpan.FromSeconds(10));

        var received = new List<byte>();
        var buffer = new byte[4096];
        int n;
        while ((n = await client.ReceiveAsync(buffer, SocketFlags.None)) > 0) // a reset would throw here
            received.AddRange(buffer.AsSpan(0, n).ToArray());
        // SETTINGS (type 4, empty), then GOAWAY (type 7, 8 bytes): last stream id 0, NO_ERROR.
        Assert.Equal(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, received.ToArray());
    }

    [Fact]
    public async Task New_handshakes_are_dropped_while_established_connections_carry_on()
    {
        var sockets = new ListenSockets();
        using var listener = sockets.Track(ListenSockets.CreateListenSocket)(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        using var before = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await before.ConnectAsync(endpoint);
        using var accepted = await listener.AcceptAsync();

        Assert.True(sockets.RefuseNewHandshakes());

        using var after = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var connect = after.ConnectAsync(endpoint);
        // The SYN is dropped: no answer within half a second (the client would retransmit after ~1 s).
        Assert.NotSame(connect, await Task.WhenAny(connect, Task.Delay(500)));
        await before.SendAsync(new byte[] { 1, 2, 3 }, SocketFlags.None);
        Assert.Equal(3, await accepted.ReceiveAsync(new byte[8], SocketFlags.None));

        await sockets.StopAcceptingAsync();
        var refused = await Assert.ThrowsAsync<SocketException>(() => connect.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }
}
