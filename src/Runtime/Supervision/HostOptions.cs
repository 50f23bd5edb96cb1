namespace Serving.Runtime.Supervision;

/// <summary>Tunables of a running host; every default written here.</summary>
public sealed record HostOptions
{
    /// <summary>The host's name (Get-ServingHost -Name).</summary>
    public string Name { get; init; } = "";
    /// <summary>How long Start waits for /readyz to answer 200. Default 60 s.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>
    /// How long in-flight requests may drain when the host ends by itself (a worker gone for good
    /// with respawn off). Default 30 s. Stop-ServingHost and Stop-Job take their own timeout.
    /// </summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>The deadline of one API → runner call. Default 60 s (<see cref="ServingDefaults"/>).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(ServingDefaults.RequestTimeoutSeconds);
    /// <summary>
    /// The largest message between a client and the gRPC front door, and between API and runner
    /// workers (both directions). Default null: requests are bounded by <see cref="MaxRequestBodyBytes"/>
    /// only (a default of 4 MiB here used to cap the 32 MiB body limit without saying so).
    /// </summary>
    public int? MaxMessageBytes { get; init; }
    /// <summary>Concurrent HTTP/2 streams per client connection. Default 100 (<see cref="ServingDefaults"/>).</summary>
    public int MaxConcurrentStreams { get; init; } = ServingDefaults.MaxConcurrentStreams;
    /// <summary>The largest request body an API accepts. Default 32 MiB (<see cref="ServingDefaults"/>).</summary>
    public long MaxRequestBodyBytes { get; init; } = ServingDefaults.MaxRequestBodyBytes;
    /// <summary>
    /// The workers' tunables (connections, sweeps, timeouts, queue bounds), written into host.json as
    /// they are; each default and its reason is in <see cref="WorkerTuning"/>.
    /// </summary>
    internal WorkerTuning Tuning { get; init; } = new();

    /// <summary>-Reload: watch the service and start a new generation when it changes; null: no reloading.</summary>
    public ReloadOptions? Reload { get; init; }

    /// <summary>
    /// Whether a restarted worker's successor starts while it still serves (<see cref="WorkerSpecs.SuccessorCanOverlap"/>);
    /// otherwise it drains first and is started again after. Tests choose; the platform decides otherwise.
    /// </summary>
    internal bool SuccessorsOverlap { get; init; } = WorkerSpecs.SuccessorCanOverlap(OperatingSystem.IsWindows());
    /// <summary>How crashed workers are restarted (when the plan says they are).</summary>
    public RespawnPolicy RespawnPolicy { get; init; } = RespawnPolicy.Default;
    /// <summary>
    /// The clock of respawn decisions: the backoff wait before a crashed worker is started again, when
    /// that respawn is due, a run's uptime for the fast-crash rule, and the Retry-After API workers are
    /// told while a runner waits for it. Default <see cref="TimeProvider.System"/>; tests pass a fake
    /// clock. Nothing else reads the clock for respawn decisions.
    /// </summary>
    internal TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>
    /// Asks whether the host at a URL is ready. Default <see cref="HttpReadiness"/>: GET /readyz
    /// answers 200. Wrap or replace it (tests use a fake; gRPC hosts ask grpc.health.v1).
    /// </summary>
    public Func<string, CancellationToken, Task<bool>> ReadinessProbe { get; init; } = HttpReadiness;

    // One client for both probes: the HTTP version is chosen per request.
    private static readonly HttpClient ProbeClient = new() { Timeout = TimeSpan.FromSeconds(2) };

    /// <summary>The readiness probe for a plan: grpc.health.v1 for gRPC hosts, GET /readyz for HTTP.</summary>
    public static Func<string, CancellationToken, Task<bool>> ProbeFor(ServingProtocol protocol) =>
        protocol == ServingProtocol.Grpc ? GrpcReadiness : HttpReadiness;

    /// <summary>
    /// grpc.health.v1.Health/Check with the empty service name over h2c, answered SERVING. Written by
    /// hand (a 5-byte frame and a two-byte message) so the runtime stays free of gRPC packages.
    /// </summary>
    public static async Task<bool> GrpcReadiness(string url, CancellationToken cancellationToken)
    {
        try
        {
            var content = new ByteArrayContent(new byte[5]); // uncompressed, length 0: HealthCheckRequest { service = "" }
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
            using var request = H2c(new HttpRequestMessage(HttpMethod.Post, url + "/grpc.health.v1.Health/Check") { Content = content });
            request.Headers.TryAddWithoutValidation("TE", "trailers");
            using var response = await ProbeClient.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != System.Net.HttpStatusCode.OK) return false;
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            // HealthCheckResponse { status = SERVING (1) } is the message 08 01.
            return body.Length == 7 && body[0] == 0 && body[4] == 2 && body[5] == 0x08 && body[6] == 0x01;
        }
        catch (HttpRequestException) { return false; }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested) { return false; }
    }

    /// <summary>The default readiness probe: GET {url}/readyz answers 200.</summary>
    public static async Task<bool> HttpReadiness(string url, CancellationToken cancellationToken)
    {
        try
        {
            using var request = ReadyzRequest(url, ServingProtocol.Http);
            using var response = await ProbeClient.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return response.StatusCode == System.Net.HttpStatusCode.OK;
        }
        catch (HttpRequestException) { return false; }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested) { return false; }
    }

    /// <summary>
    /// What GET {url}/readyz answers, for an error message: "503 {problem body}" (which names each runner's
    /// state), or why there was no answer. Over h2c for a gRPC host, whose port speaks HTTP/2 only. Never throws.
    /// </summary>
    public static async Task<string> DescribeReadinessAsync(string url, ServingProtocol protocol)
    {
        try
        {
            using var request = ReadyzRequest(url, protocol);
            using var response = await ProbeClient.SendAsync(request).ConfigureAwait(false);
            var body = (await response.Content.ReadAsStringAsync().ConfigureAwait(false)).ReplaceLineEndings(" ").Trim();
            if (body.Length > 400) body = body[..400] + "…";
            return $"{(int)response.StatusCode} {body}".Trim();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            return "no answer (" + (e.InnerException?.Message ?? e.Message) + ")";
        }
    }

    /// <summary>
    /// GET {url}/readyz as the probes send it: with Connection: close over HTTP/1.1 (an idle keep-alive connection of
    /// ours would hold up every drain for its grace period), over h2c for a gRPC host.
    /// </summary>
    private static HttpRequestMessage ReadyzRequest(string url, ServingProtocol protocol)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url + "/readyz");
        if (protocol == ServingProtocol.Grpc) return H2c(request);
        request.Headers.ConnectionClose = true;
        return request;
    }

    /// <summary>
    /// HTTP/2 with prior knowledge, as a gRPC host's port speaks only that. HttpClient's defaults apply to GetAsync
    /// and friends, not to a message we build: it is said on the message.
    /// </summary>
    private static HttpRequestMessage H2c(HttpRequestMessage request)
    {
        request.Version = System.Net.HttpVersion.Version20;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        return request;
    }

    /// <summary>Log lines kept per worker for error messages and Get-ServingHost diagnostics.</summary>
    public int RecentLines { get; init; } = 40;

    /// <summary>How workers write their log lines (host.json <c>logFormat</c>), and how -Wait writes every line. Default Text.</summary>
    public LogFormat LogFormat { get; init; } = LogFormat.Text;

    /// <summary>
    /// The lowest level logged (host.json <c>logLevel</c>): workers write nothing below it, and the supervisor keeps
    /// none of its own notes below it. Default Information.
    /// </summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>
    /// -AccessLog: API workers write one line per request (host.json <c>accessLog</c>): method, route, status,
    /// duration, bytes, generation, request id. Default false (a line per request costs; probes and scrapes never get one).
    /// </summary>
    public bool AccessLog { get; init; }

    /// <summary>Log lines the host keeps for Get-ServingLog, of all its workers together (<see cref="LogRing"/>). Default 10,000.</summary>
    public int LogCapacity { get; init; } = 10_000;
}
