// The floor under the runner hop: two .NET processes passing one small message back and forth over
// a Unix domain socket or loopback TCP, with the same async socket calls (and the same inline-completion
// setting) the API and runner workers use, and nothing else: no framing, no HTTP, no model. Whatever the
// hop costs above this is ours; this much is the kernel's and the machine's (scheduler wake-ups).
//
//   SocketFloor uds|tcp [round trips] [bytes]   prints one JSON line: {"transport":..,"p50Us":..,..}
//                                               (bytes: both ways; default a /classify call and reply)
//   SocketFloor echo uds|tcp <address> <request bytes> <reply bytes>   the child it starts
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

// By default the sizes of a /classify call frame and its reply on the runner hop.
const int DefaultRequestBytes = 72;
const int DefaultReplyBytes = 96;

if (args is ["echo", var echoKind, var echoAddress, var echoRequest, var echoReply])
{
    using var socket = Connect(echoKind, echoAddress);
    var request = new byte[int.Parse(echoRequest, CultureInfo.InvariantCulture)];
    var reply = new byte[int.Parse(echoReply, CultureInfo.InvariantCulture)];
    while (await ReadExactlyAsync(socket, request))
        await SendAllAsync(socket, reply);
    return 0;
}
if (args.Length is < 1 or > 3 || args[0] is not ("uds" or "tcp"))
{
    Console.Error.WriteLine("usage: SocketFloor uds|tcp [round trips] [message bytes]");
    return 2;
}
var kind = args[0];
var count = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20000;
var requestBytes = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : DefaultRequestBytes;
var replyBytes = args.Length > 2 ? requestBytes : DefaultReplyBytes;

using var listener = Listen(kind, out var address);
var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
    start.ArgumentList.Add(typeof(Program).Assembly.Location);
foreach (var a in new[] { "echo", kind, address, requestBytes.ToString(CultureInfo.InvariantCulture), replyBytes.ToString(CultureInfo.InvariantCulture) })
    start.ArgumentList.Add(a);
using var child = Process.Start(start)!;
try
{
    using var peer = await listener.AcceptAsync();
    if (kind == "tcp")
        peer.NoDelay = true;
    var message = new byte[requestBytes];
    var answer = new byte[replyBytes];
    var warmup = Math.Min(2000, count / 5);
    var ticks = new long[count];
    for (var i = -warmup; i < count; i++)
    {
        var t = Stopwatch.GetTimestamp();
        await SendAllAsync(peer, message);
        if (!await ReadExactlyAsync(peer, answer))
            throw new IOException("the echo process closed the connection");
        if (i >= 0)
            ticks[i] = Stopwatch.GetTimestamp() - t;
    }
    peer.Shutdown(SocketShutdown.Both);
    Array.Sort(ticks);
    double Us(double p) => ticks[Math.Min(count - 1, (int)(p * count))] * 1e6 / Stopwatch.Frequency;
    Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
        "{{\"transport\":\"{0}\",\"roundTrips\":{1},\"requestBytes\":{2},\"replyBytes\":{3},\"p50Us\":{4:0.0},\"p90Us\":{5:0.0},\"p99Us\":{6:0.0}}}",
        kind, count, requestBytes, replyBytes, Us(0.50), Us(0.90), Us(0.99)));
    return 0;
}
finally
{
    if (!child.WaitForExit(5000))
        child.Kill();
    if (kind == "uds")
        File.Delete(address);
}

static Socket Listen(string kind, out string address)
{
    if (kind == "uds")
    {
        address = Path.Combine(Path.GetTempPath(), $"socket-floor-{Environment.ProcessId}.sock");
        File.Delete(address);
        var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        unix.Bind(new UnixDomainSocketEndPoint(address));
        unix.Listen(1);
        return unix;
    }
    var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    tcp.Listen(1);
    address = tcp.LocalEndPoint!.ToString()!;
    return tcp;
}

static Socket Connect(string kind, string address)
{
    if (kind == "uds")
    {
        var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        unix.Connect(new UnixDomainSocketEndPoint(address));
        return unix;
    }
    var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    tcp.Connect(IPEndPoint.Parse(address));
    return tcp;
}

static async Task<bool> ReadExactlyAsync(Socket socket, Memory<byte> buffer)
{
    while (!buffer.IsEmpty)
    {
        var n = await socket.ReceiveAsync(buffer, SocketFlags.None);
        if (n == 0)
            return false;
        buffer = buffer[n..];
    }
    return true;
}

static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data)
{
    while (!data.IsEmpty)
        data = data[await socket.SendAsync(data, SocketFlags.None)..];
}
