using System.Net.Sockets;

namespace Serving.Worker.Tests.Infrastructure;

/// <summary>
/// A Unix-socket listener between an API worker's runner client and a runner worker, passing bytes
/// through unchanged. It counts the connections it accepts and those the client closes, and can hold
/// the runner's bytes back: calls then stay in flight, answered by the runner, until the test lets go.
/// </summary>
public sealed class RunnerProxy : IDisposable
{
    private readonly Socket _listener;
    private readonly string _runnerPath;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private volatile TaskCompletionSource _runnerBytes = Released();
    private int _accepted;
    private int _closedByClient;

    public RunnerProxy(string path, string runnerPath)
    {
        Path = path;
        _runnerPath = runnerPath;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(64);
        _ = AcceptAsync();
    }

    public string Path { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Accepted connections the client has closed so far.</summary>
    public int ClosedByClient => Volatile.Read(ref _closedByClient);

    /// <summary>From now on, what the runner sends waits here (replies included) until <see cref="Release"/>.</summary>
    public void Hold() => _runnerBytes = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _runnerBytes.TrySetResult();

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
                var client = await _listener.AcceptAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                _ = PassAsync(client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task PassAsync(Socket client)
    {
        var runner = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        lock (_sockets)
            _sockets.AddRange([client, runner]);
        try
        {
            await runner.ConnectAsync(new UnixDomainSocketEndPoint(_runnerPath), _stop.Token);
            var fromRunner = PumpAsync(runner, client, held: true);
            await PumpAsync(client, runner, held: false);
            Interlocked.Increment(ref _closedByClient);
            runner.Shutdown(SocketShutdown.Send);
            await fromRunner;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
            runner.Dispose();
        }
    }

    /// <summary>Copies until the end of <paramref name="from"/>'s stream (a reset counts as an end; a failure to send throws).</summary>
    private async Task PumpAsync(Socket from, Socket to, bool held)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            int read;
            try
            {
                read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            }
            catch (SocketException)
            {
                return;
            }
            if (read == 0)
                return;
            if (held)
                await _runnerBytes.Task.WaitAsync(_stop.Token);
            await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
                socket.Dispose();
        }
    }
}
