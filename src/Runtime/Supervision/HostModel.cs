namespace Serving;

/// <summary>The life of a host, as Get-ServingHost shows it.</summary>
public enum HostState { Starting, Running, Degraded, Stopping, Stopped, Failed }

/// <summary>The life of one worker slot (a slot keeps its name across respawns).</summary>
public enum WorkerState { Starting, Running, Backoff, Exited, Failed, Stopping, Stopped }

/// <summary>A snapshot of one worker.</summary>
public sealed class WorkerInfo
{
    public WorkerRole Role { get; init; }
    /// <summary>"api-1", "echo-2", "dev-1": the tag on its log lines.</summary>
    public string Name { get; init; } = "";
    /// <summary>The runner a runner worker hosts; empty for API workers.</summary>
    public string Runner { get; init; } = "";
    public int Index { get; init; }
    /// <summary>The current (or last) process id; 0 before the first start.</summary>
    public int Pid { get; init; }
    public WorkerState State { get; init; }
    public int Restarts { get; init; }
    public string Endpoint { get; init; } = "";
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>The exit code of the last process that exited, if any.</summary>
    public int? LastExitCode { get; init; }
}

/// <summary>A snapshot of one host.</summary>
public sealed class HostInfo
{
    public string Name { get; init; } = "";
    public int Id { get; init; }
    public string HostId { get; init; } = "";
    public HostState State { get; init; }
    public string Service { get; init; } = "";
    public ServingProtocol Protocol { get; init; }
    public ServingMode Mode { get; init; }
    public string Url { get; init; } = "";
    public RunnerTransport Transport { get; init; }
    public string SocketDirectory { get; init; } = "";
    public bool Respawn { get; init; }
    public WorkerInfo[] Workers { get; init; } = Array.Empty<WorkerInfo>();
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? StoppedAt { get; init; }
    /// <summary>Why the host is Degraded or Failed, in a sentence; empty otherwise.</summary>
    public string Reason { get; init; } = "";
}

/// <summary>One line a worker (or the supervisor about a worker) wrote.</summary>
public sealed class WorkerLogEntry
{
    public DateTimeOffset Time { get; init; }
    public string Host { get; init; } = "";
    public string Worker { get; init; } = "";
    public int Pid { get; init; }
    /// <summary>stdout, stderr, or supervisor (the supervisor's own note about the worker).</summary>
    public string Stream { get; init; } = "stdout";
    public string Message { get; init; } = "";

    public override string ToString() => $"[{Worker}] {Message}";
}

/// <summary>Tunables of a running host; every default written here.</summary>
public sealed class HostOptions
{
    /// <summary>The host's name (Get-ServingHost -Name).</summary>
    public string Name { get; init; } = "";
    /// <summary>How long Start waits for /readyz to answer 200. Default 60 s.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>The deadline of one API → runner call. Default 60 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>The largest request body an API accepts. Default 32 MiB.</summary>
    public long MaxRequestBodyBytes { get; init; } = 32L * 1024 * 1024;
    /// <summary>How crashed workers are restarted (when the plan says they are).</summary>
    public RespawnPolicy RespawnPolicy { get; init; } = RespawnPolicy.Default;
    /// <summary>
    /// Asks whether the host at a URL is ready. Default <see cref="HttpReadiness"/>: GET /readyz
    /// answers 200. Wrap or replace it (tests use a fake; gRPC hosts ask grpc.health.v1).
    /// </summary>
    public Func<string, CancellationToken, Task<bool>> ReadinessProbe { get; init; } = HttpReadiness;

    private static readonly HttpClient ProbeClient = new() { Timeout = TimeSpan.FromSeconds(2) };

    /// <summary>The default readiness probe: GET {url}/readyz answers 200.</summary>
    public static async Task<bool> HttpReadiness(string url, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await ProbeClient.GetAsync(url + "/readyz", cancellationToken).ConfigureAwait(false);
            return response.StatusCode == System.Net.HttpStatusCode.OK;
        }
        catch (HttpRequestException) { return false; }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested) { return false; }
    }

    /// <summary>Log lines kept per worker for error messages and Get-ServingHost diagnostics.</summary>
    public int RecentLines { get; init; } = 40;
}
