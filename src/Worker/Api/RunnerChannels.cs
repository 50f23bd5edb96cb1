using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;
using Serving.Worker.Protocol;

namespace Serving.Worker.Api;

/// <summary>
/// The API worker's connection to one runner: gRPC channels created once at startup and reused
/// for every call (pooled HTTP/2 connections over a Unix socket or loopback TCP).
/// </summary>
/// <remarks>
/// A runner with several workers gets several channels, used round-robin: each channel holds its
/// own connection(s), and the kernel hands each new connection on the shared socket to one of the
/// runner's workers, so the load spreads over them. A one-worker runner gets exactly one channel.
/// </remarks>
internal sealed class RunnerChannels : IDisposable
{
    private readonly int _count;
    private readonly int? _maxMessageBytes;
    private readonly RunnerAvailability _availability;
    private readonly Lock _lock = new();
    private ChannelSet _set;
    private volatile Unavailability? _unavailable;
    private bool _disposed;
    private int _next;

    public RunnerChannels(string name, RunnerEndpointConfig endpoint, int workers, string? secret, TimeSpan timeout, int? maxMessageBytes,
        Lifeline? lifeline = null)
    {
        Name = name;
        Endpoint = endpoint;
        Timeout = timeout;
        _maxMessageBytes = maxMessageBytes;
        if (endpoint.TransportKind == RunnerTransport.Tcp)
            Headers = new Metadata { { "x-serving-secret", secret ?? "" } };

        _count = workers <= 1 ? 1 : Math.Min(workers * 2, 32);
        _set = new ChannelSet(_count, endpoint, maxMessageBytes);
        _availability = lifeline?.Runners ?? new RunnerAvailability();
        _availability.Changed += OnAvailabilityChanged;
        OnAvailabilityChanged(name);
        // Requests still running just before a drain ends are answered (503 / UNAVAILABLE) rather than reset.
        lifeline?.DrainExpired.Register(() => Abort(Unavailability.HostStopping));
    }

    public string Name { get; }
    public RunnerEndpointConfig Endpoint { get; }
    public TimeSpan Timeout { get; }

    /// <summary>Metadata sent with every call (the secret on Tcp endpoints), else null.</summary>
    public Metadata? Headers { get; }

    /// <summary>
    /// Why calls to this runner are answered at once instead of sent (the supervisor said none of its
    /// workers is alive, or the drain's time is up), else null. Read before a call, and after a call
    /// failed: calls in flight when it was set were cancelled by it.
    /// </summary>
    public Unavailability? Unavailable => _unavailable;

    /// <summary>Raised when <see cref="Unavailable"/> may have changed.</summary>
    public event Action? AvailabilityChanged;

    /// <summary>The client for the next call (round-robin over the channels).</summary>
    public Protocol.Runner.RunnerClient NextClient()
    {
        var clients = _set.Clients;
        if (clients.Length == 1)
            return clients[0];
        var i = (uint)Interlocked.Increment(ref _next) % (uint)clients.Length;
        return clients[i];
    }

    private void OnAvailabilityChanged(string runner)
    {
        if (!string.Equals(runner, Name, StringComparison.Ordinal))
            return;
        if (_availability.Down(Name) is { } down)
            Abort(down);
        else if (_unavailable is { } current && current.Problem == Problems.RunnerUnavailable)
            _unavailable = null;
        AvailabilityChanged?.Invoke();
    }

    /// <summary>
    /// Marks the runner unavailable and cancels every call in flight and every connection attempt to
    /// it (fresh channels replace the old ones, whose disposal cancels their calls): a call queued in
    /// the backlog of a socket nobody accepts on would otherwise wait for its deadline.
    /// </summary>
    private void Abort(Unavailability why)
    {
        ChannelSet old;
        lock (_lock)
        {
            if (_unavailable == Unavailability.HostStopping)
                return; // the drain's end is final
            _unavailable = why;
            if (_disposed)
                return;
            old = _set;
            _set = new ChannelSet(_count, Endpoint, _maxMessageBytes);
        }
        old.Dispose();
    }

    /// <summary>How often a call that never reached the runner is sent again.</summary>
    private const int UnsentRetries = 4;

    /// <summary>
    /// One <c>Runner.Call</c>. A call that certainly never reached the runner is sent again, at most
    /// <see cref="UnsentRetries"/> times, after a short pause: a stream the runner refused with HTTP/2
    /// REFUSED_STREAM (RFC 9113 §8.7), or one SocketsHttpHandler aborted before sending it because its
    /// connection was going away (the runner's GOAWAY). Both happen when a burst of calls goes out on a
    /// new connection before the runner's SETTINGS (its maxConcurrentStreams, when below the 100
    /// streams a client assumes until then) arrived; SocketsHttpHandler does not always retry them
    /// itself. Anything else (a connection lost mid-call included) is not retried.
    /// </summary>
    public async Task<CallReply> CallAsync(CallRequest request, CallOptions options)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var call = NextClient().CallAsync(request, options);
                return await call.ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException ex) when (attempt <= UnsentRetries && NeverSent(ex) && !options.CancellationToken.IsCancellationRequested)
            {
            }
            catch (ObjectDisposedException) when (attempt <= UnsentRetries && _unavailable is null)
            {
                // The channel set was replaced under us (a runner that went down came back): take the new one.
            }
            catch (ObjectDisposedException) when (_unavailable is not null)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, $"runner '{Name}' is unavailable"));
            }
            await Task.Delay(5 * attempt).ConfigureAwait(false);
        }
    }

    /// <summary>The call failed before the runner could have seen it.</summary>
    internal static bool NeverSent(RpcException ex)
    {
        var e = ex.Status.DebugException;
        // SocketsHttpHandler's "the request was aborted" before the stream was added to a closing connection.
        if (e is HttpRequestException { HttpRequestError: HttpRequestError.Unknown, InnerException: null })
            return true;
        for (; e is not null; e = e.InnerException)
        {
            if (e is HttpProtocolException { ErrorCode: 0x7 }) // REFUSED_STREAM
                return true;
        }
        return false;
    }

    /// <summary>Asks the runner's grpc.health.v1 service; true when it answers SERVING in time.</summary>
    public async Task<(bool Ready, string Status)> CheckAsync(TimeSpan timeout)
    {
        if (_unavailable is not null)
            return (false, "DOWN");
        try
        {
            var reply = await _set.Health.CheckAsync(new HealthCheckRequest(), Headers, DateTime.UtcNow.Add(timeout)).ConfigureAwait(false);
            return (reply.Status == HealthCheckResponse.Types.ServingStatus.Serving, reply.Status.ToString().ToUpperInvariant());
        }
        catch (RpcException ex)
        {
            return (false, ex.StatusCode == StatusCode.DeadlineExceeded ? "TIMEOUT" : "UNAVAILABLE");
        }
        catch (ObjectDisposedException)
        {
            return (false, "DOWN");
        }
    }

    private static GrpcChannel CreateChannel(RunnerEndpointConfig endpoint, int? maxMessageBytes)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = System.Threading.Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = System.Threading.Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            InitialHttp2StreamWindowSize = 1024 * 1024,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };

        string address;
        if (endpoint.TransportKind == RunnerTransport.Uds)
        {
            var socketPath = endpoint.Address!;
            var socketEndPoint = new UnixDomainSocketEndPoint(socketPath);
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(socketEndPoint, cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
            address = "http://localhost";
        }
        else
        {
            address = "http://" + endpoint.Address;
        }

        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = maxMessageBytes,
            MaxSendMessageSize = maxMessageBytes,
        });
    }

    public void Dispose()
    {
        _availability.Changed -= OnAvailabilityChanged;
        ChannelSet set;
        lock (_lock)
        {
            _disposed = true;
            set = _set;
        }
        set.Dispose();
    }

    /// <summary>The channels (each with its own connections) and clients in use at one time.</summary>
    private sealed class ChannelSet : IDisposable
    {
        private readonly GrpcChannel[] _channels;

        public ChannelSet(int count, RunnerEndpointConfig endpoint, int? maxMessageBytes)
        {
            _channels = new GrpcChannel[count];
            Clients = new Protocol.Runner.RunnerClient[count];
            for (var i = 0; i < count; i++)
            {
                _channels[i] = CreateChannel(endpoint, maxMessageBytes);
                Clients[i] = new Protocol.Runner.RunnerClient(_channels[i]);
            }
            Health = new Health.HealthClient(_channels[0]);
        }

        public Protocol.Runner.RunnerClient[] Clients { get; }
        public Health.HealthClient Health { get; }

        public void Dispose()
        {
            foreach (var channel in _channels)
                channel.Dispose();
        }
    }
}
