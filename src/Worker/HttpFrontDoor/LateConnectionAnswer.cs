using System.Net.Sockets;
using System.Text;
using Serving.Worker.Errors;

namespace Serving.Worker.HttpFrontDoor;

/// <summary>
/// The answer to an HTTP/1.1 connection the kernel completed just before the worker's listening
/// socket closed (see <c>ListenSockets.StopAcceptingAsync</c>): 503 "Stopping" with Retry-After and
/// Connection: close, written at once (a server may answer before reading the request), then a
/// lingering close — the request is read and discarded until the client closes, so the close sends a
/// FIN rather than the reset that unread data would cause and that could destroy the answer.
/// </summary>
internal static class LateConnectionAnswer
{
    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(2);

    public static Func<Socket, Task> For(string worker) => connection => AnswerAsync(connection, worker);

    /// <summary>
    /// The same for the gRPC front door (HTTP/2 with prior knowledge): the server's preface (an empty
    /// SETTINGS frame) and a GOAWAY with last stream id 0 and NO_ERROR — "no stream on this connection
    /// was processed" — so a gRPC client sends its calls again on a new connection (grpc-core does so
    /// transparently), instead of the reset that would fail them. Then the same lingering close.
    /// </summary>
    public static Func<Socket, Task> ForHttp2() => AnswerHttp2Async;

    // Frame header: length (24 bits), type, flags, stream id (31 bits); SETTINGS is type 4, GOAWAY type 7
    // with last-stream-id (31 bits) and error code (32 bits, 0 = NO_ERROR) as its payload (RFC 9113 §6.5, §6.8).
    private static readonly byte[] Http2GoAway =
    [
        0, 0, 0, 4, 0, 0, 0, 0, 0,
        0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    private static async Task AnswerHttp2Async(Socket connection)
    {
        using (connection)
        {
            try
            {
                await connection.SendAsync(Http2GoAway, SocketFlags.None).ConfigureAwait(false);
                await LingerAsync(connection).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away or kept the connection open past the linger: nothing more to do.
            }
        }
    }

    /// <summary>Half-closes and reads what the client sends until it closes (at most <see cref="Linger"/>), so the close is a FIN.</summary>
    private static async Task LingerAsync(Socket connection)
    {
        connection.Shutdown(SocketShutdown.Send);
        using var linger = new CancellationTokenSource(Linger);
        var discard = new byte[4096];
        while (await connection.ReceiveAsync(discard, SocketFlags.None, linger.Token).ConfigureAwait(false) > 0)
        {
        }
    }

    private static async Task AnswerAsync(Socket connection, string worker)
    {
        using (connection)
        {
            try
            {
                var body = ApiResponses.ProblemBody(Problems.Stopping,
                    "the host is stopping: this connection arrived as it stopped accepting, and no request on it was processed; retry",
                    "late-" + Guid.NewGuid().ToString("N")[..12], worker, extensions: null);
                var head = Encoding.ASCII.GetBytes(
                    "HTTP/1.1 503 Service Unavailable\r\n" +
                    $"Content-Type: {ApiResponses.ProblemContentType}\r\n" +
                    $"Content-Length: {body.Length}\r\n" +
                    "Retry-After: 1\r\n" +
                    $"{ApiHandler.WorkerHeader}: {worker}\r\n" +
                    "Connection: close\r\n\r\n");
                await connection.SendAsync(head, SocketFlags.None).ConfigureAwait(false);
                await connection.SendAsync(body, SocketFlags.None).ConfigureAwait(false);
                await LingerAsync(connection).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away or kept the connection open past the linger: nothing more to do.
            }
        }
    }
}
