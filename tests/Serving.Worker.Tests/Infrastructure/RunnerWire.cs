using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Serving.Worker.Tests.Infrastructure;

/// <summary>
/// A hand-written client of the runner protocol, written from docs/worker-protocol.md rather than
/// with the worker's own framing code, to talk to a runner worker directly and to send it what a
/// well-behaved API worker never would.
/// </summary>
public sealed class RunnerWire : IDisposable
{
    public const byte Hello = 1, Welcome = 2, Call = 3, Cancel = 4, Reply = 5, Ping = 6, Pong = 7, GoAway = 8, Error = 15;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private RunnerWire(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static async Task<RunnerWire> UnixAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return new RunnerWire(socket);
    }

    public static async Task<RunnerWire> TcpAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return new RunnerWire(socket);
    }

    /// <summary>Connects and completes the hello; fails the test unless the runner welcomes it.</summary>
    public static async Task<RunnerWire> OpenUnixAsync(string path, string? secret = null)
    {
        var wire = await UnixAsync(path);
        await wire.SendHelloAsync(secret);
        var (type, _, payload) = await wire.ReadFrameAsync();
        Assert.True(type == Welcome, $"expected a welcome, got frame type {type}: {Encoding.UTF8.GetString(payload)}");
        return wire;
    }

    public static byte[] Frame(byte type, uint id, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[9 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
        frame[4] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(5), id);
        payload.CopyTo(frame.AsSpan(9));
        return frame;
    }

    public static byte[] HelloFrame(string? secret, ushort version = 1)
    {
        var s = Encoding.UTF8.GetBytes(secret ?? "");
        var payload = new byte[2 + s.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(payload, version);
        s.CopyTo(payload, 2);
        return Frame(Hello, 0, payload);
    }

    public static byte[] CallFrame(uint id, string method, ReadOnlySpan<byte> input, short apiIndex = -1, uint timeoutMs = 0, byte flags = 0, string requestId = "test-request")
    {
        var m = Encoding.UTF8.GetBytes(method);
        var r = Encoding.UTF8.GetBytes(requestId);
        var payload = new byte[9 + m.Length + r.Length + input.Length];
        BinaryPrimitives.WriteInt16LittleEndian(payload, apiIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(2), timeoutMs);
        payload[6] = flags;
        payload[7] = (byte)m.Length;
        m.CopyTo(payload, 8);
        payload[8 + m.Length] = (byte)r.Length;
        r.CopyTo(payload, 9 + m.Length);
        input.CopyTo(payload.AsSpan(9 + m.Length + r.Length));
        return Frame(Call, id, payload);
    }

    public Task SendHelloAsync(string? secret) => SendAsync(HelloFrame(secret));

    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    public Task CallAsync(uint id, string method, string input, short apiIndex = -1, uint timeoutMs = 0) =>
        SendAsync(CallFrame(id, method, Encoding.UTF8.GetBytes(input), apiIndex, timeoutMs));

    /// <summary>Reads one frame (10 s patience); throws EndOfStreamException when the runner closed the connection.</summary>
    public async Task<(byte Type, uint Id, byte[] Payload)> ReadFrameAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var header = new byte[9];
        await _stream.ReadExactlyAsync(header, cts.Token);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        var payload = new byte[length];
        await _stream.ReadExactlyAsync(payload, cts.Token);
        return (header[4], BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(5)), payload);
    }

    /// <summary>A reply's status, and its output (Ok) or message.</summary>
    public static (byte Status, string Text) ParseReply(byte[] payload) =>
        payload[0] == 0
            ? ((byte)0, Encoding.UTF8.GetString(payload, 1, payload.Length - 1))
            : (payload[0], Encoding.UTF8.GetString(payload, 5, payload.Length - 5));

    /// <summary>True when the runner closed the connection (within 10 s), after any frames it sent first.</summary>
    public async Task<bool> ClosedAsync()
    {
        try
        {
            while (true)
                await ReadFrameAsync();
        }
        catch (EndOfStreamException)
        {
            return true;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose() => _stream.Dispose();
}
