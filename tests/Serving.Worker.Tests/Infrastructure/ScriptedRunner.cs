using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Serving.Worker.Tests.Infrastructure;

/// <summary>
/// A fake runner endpoint on a Unix socket, speaking the runner protocol (framed with <see cref="RunnerWire"/>'s
/// helpers, written from docs/worker-protocol.md): it welcomes every connection, answers calls Ok with
/// <c>c{connection}:{input}</c>, or — where its script says so — like a draining runner worker: a GoAway,
/// and the call answered Stopping without running it. A connection that sent its GoAway answers every later
/// call Stopping too, and stays open (a worker draining other calls) until the fake is disposed.
/// Every call is logged (connection, input) before it is answered.
/// </summary>
public sealed class ScriptedRunner : IDisposable
{
    /// <summary>Where a draining connection's GoAway goes relative to its first Stopping reply.</summary>
    public enum GoAwayOrder
    {
        /// <summary>As a runner worker does: the GoAway goes out when the drain begins; a call that crossed it is answered Stopping.</summary>
        BeforeStopping,

        /// <summary>The reply is written first, the GoAway right after it (a drain that began while the call was being read).</summary>
        AfterStopping,
    }

    public const byte StatusOk = 0, StatusStopping = 7;

    private readonly Socket _listener;
    private readonly Func<string, int, bool> _stops;
    private readonly GoAwayOrder _order;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly List<(int Connection, string Input)> _calls = [];
    private readonly Dictionary<string, int> _attempts = new(StringComparer.Ordinal);
    private readonly List<Exception> _faults = [];
    private volatile TaskCompletionSource _replies = Released();
    private int _accepted;

    /// <param name="path">The socket to listen on.</param>
    /// <param name="stops">
    /// Given a call's input and how often that input was seen before (0 on its first attempt): whether the
    /// connection it came on starts to drain (GoAway) and answers it Stopping.
    /// </param>
    /// <param name="order">Whether the GoAway goes before or after the first Stopping reply.</param>
    public ScriptedRunner(string path, Func<string, int, bool> stops, GoAwayOrder order = GoAwayOrder.BeforeStopping)
    {
        Path = path;
        _stops = stops;
        _order = order;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen(64);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        _ = AcceptAsync();
    }

    public string Path { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>The calls received so far, in order: the connection (by acceptance, from 0) and the input.</summary>
    public (int Connection, string Input)[] Calls
    {
        get
        {
            lock (_calls)
                return [.. _calls];
        }
    }

    /// <summary>What went wrong serving a connection other than the client going away (a malformed frame): should be empty.</summary>
    public Exception[] Faults
    {
        get
        {
            lock (_faults)
                return [.. _faults];
        }
    }

    /// <summary>From now on, calls are logged but not answered until <see cref="Release"/>.</summary>
    public void Hold() => _replies = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _replies.TrySetResult();

    private static TaskCompletionSource Released()
    {
        var released = new TaskCompletionSource();
        released.SetResult();
        return released;
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptAsync(_stop.Token);
                lock (_sockets)
                    _sockets.Add(socket);
                _ = ServeAsync(socket, Interlocked.Increment(ref _accepted) - 1);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(Socket socket, int connection)
    {
        var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            var (type, _, _) = await ReadFrameAsync(stream);
            if (type != RunnerWire.Hello)
                throw new InvalidDataException($"connection {connection}: the first frame is type {type}, not a hello");
            var welcome = new byte[6 + Encoding.UTF8.GetByteCount($"c{connection}")];
            BinaryPrimitives.WriteUInt16LittleEndian(welcome, 1);
            BinaryPrimitives.WriteUInt32LittleEndian(welcome.AsSpan(2), 1 << 20);
            Encoding.UTF8.GetBytes($"c{connection}", welcome.AsSpan(6));
            await stream.WriteAsync(RunnerWire.Frame(RunnerWire.Welcome, 0, welcome), _stop.Token);

            var draining = false;
            while (true)
            {
                (type, var id, var payload) = await ReadFrameAsync(stream);
                switch (type)
                {
                    case RunnerWire.Call:
                    {
                        var input = CallInput(payload);
                        int attempt;
                        lock (_calls)
                        {
                            _calls.Add((connection, input));
                            _attempts[input] = (attempt = _attempts.GetValueOrDefault(input)) + 1;
                        }
                        await _replies.Task.WaitAsync(_stop.Token);
                        if (!draining && !_stops(input, attempt))
                        {
                            await stream.WriteAsync(OkReply(id, $"c{connection}:{input}"), _stop.Token);
                            break;
                        }
                        var stopping = StoppingReply(id, $"runner 'echo' worker c{connection} is stopping");
                        byte[] frames = draining
                            ? stopping
                            : _order == GoAwayOrder.BeforeStopping
                                ? [.. RunnerWire.Frame(RunnerWire.GoAway, 0, []), .. stopping]
                                : [.. stopping, .. RunnerWire.Frame(RunnerWire.GoAway, 0, [])];
                        draining = true;
                        await stream.WriteAsync(frames, _stop.Token);
                        break;
                    }
                    case RunnerWire.Ping:
                        await stream.WriteAsync(RunnerWire.Frame(RunnerWire.Pong, id, [draining ? (byte)0 : (byte)1]), _stop.Token);
                        break;
                    case RunnerWire.Cancel:
                        break; // every call is answered at once (or when released): nothing runs to cancel
                    default:
                        throw new InvalidDataException($"connection {connection}: unexpected frame type {type}");
                }
            }
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client closed the connection, or the fake is being disposed.
        }
        catch (Exception ex)
        {
            lock (_faults)
                _faults.Add(ex);
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    private async Task<(byte Type, uint Id, byte[] Payload)> ReadFrameAsync(NetworkStream stream)
    {
        var header = new byte[9];
        await stream.ReadExactlyAsync(header, _stop.Token);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length > 1 << 20)
            throw new InvalidDataException($"a frame of {length} bytes");
        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload, _stop.Token);
        return (header[4], BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(5)), payload);
    }

    /// <summary>A Call payload's input: after api index (2), timeout (4), flags (1), method (length byte + bytes), request id (length byte + bytes).</summary>
    private static string CallInput(byte[] payload)
    {
        var methodLength = payload[7];
        var requestLength = payload[8 + methodLength];
        var start = 9 + methodLength + requestLength;
        return Encoding.UTF8.GetString(payload, start, payload.Length - start);
    }

    private static byte[] OkReply(uint id, string output) => RunnerWire.Frame(RunnerWire.Reply, id, [StatusOk, .. Encoding.UTF8.GetBytes(output)]);

    /// <summary>A Stopping reply: status, retry-after in ms (1000), the message.</summary>
    private static byte[] StoppingReply(uint id, string message)
    {
        var payload = new byte[5 + Encoding.UTF8.GetByteCount(message)];
        payload[0] = StatusStopping;
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(1), 1000);
        Encoding.UTF8.GetBytes(message, payload.AsSpan(5));
        return RunnerWire.Frame(RunnerWire.Reply, id, payload);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _replies.TrySetResult();
        _listener.Dispose();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
                socket.Dispose();
        }
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
    }
}
