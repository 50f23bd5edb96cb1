using System.Buffers;
using System.Collections.Frozen;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;
using Serving.Worker.Metrics;

namespace Serving.Worker.HttpFrontDoor;

/// <summary>
/// The API worker's single terminal middleware: a frozen-dictionary lookup on the path, the body
/// read into a pooled buffer, one runner call, the result written back. No routing, no per-request
/// logging, no LINQ on this path.
/// </summary>
internal sealed class ApiHandler
{
    public const string WorkerHeader = "x-serving-worker";

    private readonly FrozenDictionary<string, (ApiRoute Route, ApiMetrics Metrics)> _routes;
    private readonly MetricsExporter? _exporter;
    // -MetricsPort's port (0: none): requests arriving there get /metrics and the probes, nothing else.
    private readonly int _metricsPort;
    private readonly AccessLog? _accessLog;
    private readonly StringValues _workerName;
    private readonly string _worker;
    private readonly IReadinessSource _readiness;
    private readonly Lifeline _lifeline;
    private readonly ReadOnlyMemory<byte> _livez;

    public ApiHandler(IEnumerable<ApiRoute> routes, string workerName, IReadinessSource readiness, Lifeline lifeline, WorkerMetrics metrics,
        int? metricsPort = null, AccessLog? accessLog = null)
    {
        _metricsPort = metricsPort ?? 0;
        _accessLog = accessLog;
        _routes = routes.ToFrozenDictionary(r => r.Route, r => (r, metrics.Api(r.Route, "http")), StringComparer.OrdinalIgnoreCase);
        _exporter = metrics.Exporter;
        _worker = workerName;
        _workerName = new StringValues(workerName);
        _readiness = readiness;
        _lifeline = lifeline;
        _livez = System.Text.Encoding.UTF8.GetBytes($"{{\"status\":\"alive\",\"worker\":\"{workerName}\"}}");
    }

    public Task HandleAsync(HttpContext context)
    {
        context.Response.Headers[WorkerHeader] = _workerName;
        RequestIds.Apply(context);
        // Draining: the answer tells a keep-alive client this connection ends, so it never sends
        // another request into a connection about to close (docs/worker-protocol.md, "Stopping").
        if (_lifeline.IsStopping)
            context.Response.Headers.Connection = "close";
        var request = context.Request;
        var path = request.Path.Value ?? "/";

        if (_metricsPort != 0 && context.Connection.LocalPort == _metricsPort)
            return MetricsPortAsync(context, path);
        if (_routes.TryGetValue(path, out var api))
            return MeasuredAsync(context, api.Route, api.Metrics);

        return path switch
        {
            "/livez" => Probe(context, ProbeKind.Live),
            "/readyz" => Probe(context, ProbeKind.Ready),
            "/healthz" => Probe(context, ProbeKind.Health),
            "/metrics" => MetricsAsync(context),
            _ => NotFoundAsync(context, path),
        };
    }

    /// <summary>No API has the route: 404, not counted in the metrics (the path is the client's), but in the access log.</summary>
    private async Task NotFoundAsync(HttpContext context, string path)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        await ApiResponses.WriteProblemAsync(context, Problems.NotFound, $"no API has the route '{path}'").ConfigureAwait(false);
        _accessLog?.Write(context.Request.Method, path, "404", "http", start, context.Request.ContentLength ?? 0,
            context.Response.ContentLength ?? 0, context.TraceIdentifier);
    }

    /// <summary>The metrics port: /metrics and the probes; the APIs are on the API port only.</summary>
    private Task MetricsPortAsync(HttpContext context, string path) => path switch
    {
        "/metrics" => MetricsAsync(context),
        "/livez" => Probe(context, ProbeKind.Live),
        "/readyz" => Probe(context, ProbeKind.Ready),
        "/healthz" => Probe(context, ProbeKind.Health),
        _ => ApiResponses.WriteProblemAsync(context, Problems.NotFound, $"the metrics port answers /metrics and the probes only, not '{path}'"),
    };

    /// <summary>One API request, counted by its status and timed (serving_request_total, …_duration_seconds, …_in_progress).</summary>
    private async Task MeasuredAsync(HttpContext context, ApiRoute route, ApiMetrics metrics)
    {
        var start = metrics.Begin();
        try
        {
            if (!HttpMethods.IsPost(context.Request.Method))
            {
                context.Response.Headers.Allow = "POST";
                await ApiResponses.WriteProblemAsync(context, Problems.MethodNotAllowed, $"'{route.Route}' accepts POST only").ConfigureAwait(false);
                return;
            }
            await InvokeAsync(context, route).ConfigureAwait(false);
        }
        finally
        {
            // A client that went away got no answer: 499, as nginx counts it.
            var status = context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted ? 499 : context.Response.StatusCode;
            metrics.End(start, status);
            _accessLog?.Write(context.Request.Method, route.Route, status.ToString(System.Globalization.CultureInfo.InvariantCulture), "http", start,
                context.Request.ContentLength ?? 0, context.Response.ContentLength ?? 0, context.TraceIdentifier);
        }
    }

    /// <summary>GET /metrics: the whole host's metrics, every worker's added up (MetricsExporter).</summary>
    private Task MetricsAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            return ApiResponses.WriteProblemAsync(context, Problems.MethodNotAllowed, "/metrics accepts GET and HEAD only");
        }
        if (_exporter is null)
            return ApiResponses.WriteProblemAsync(context, Problems.NotFound, "this worker keeps no metrics");
        var body = System.Text.Encoding.UTF8.GetBytes(_exporter.Render());
        return ApiResponses.WriteBodyAsync(context, StatusCodes.Status200OK, MetricsExporter.ContentType, body);
    }

    /// <summary>
    /// The gRPC front door's first middleware: stamps <c>x-serving-worker</c> and <c>x-request-id</c> on every response
    /// (gRPC calls' initial metadata included) and answers the probes on the same HTTP/2 endpoint;
    /// everything else goes on to gRPC routing.
    /// </summary>
    public Task FrontDoorAsync(HttpContext context, RequestDelegate next)
    {
        context.Response.Headers[WorkerHeader] = _workerName;
        RequestIds.Apply(context);
        if (_metricsPort != 0 && context.Connection.LocalPort == _metricsPort)
            return MetricsPortAsync(context, context.Request.Path.Value ?? "/");
        return context.Request.Path.Value switch
        {
            "/livez" => Probe(context, ProbeKind.Live),
            "/readyz" => Probe(context, ProbeKind.Ready),
            "/healthz" => Probe(context, ProbeKind.Health),
            "/metrics" => MetricsAsync(context),
            _ => next(context),
        };
    }

    private async Task InvokeAsync(HttpContext context, ApiRoute route)
    {
        var request = context.Request;
        var declared = request.ContentLength;
        var max = route.MaxBodyBytes;
        if (declared > max)
        {
            await PayloadTooLargeAsync(context, max).ConfigureAwait(false);
            return;
        }

        byte[] rented;
        int length;
        try
        {
            (rented, length) = await ReadBodyAsync(request.BodyReader, declared, max, context.RequestAborted).ConfigureAwait(false);
        }
        catch (BodyTooLargeException)
        {
            await PayloadTooLargeAsync(context, max).ConfigureAwait(false);
            return;
        }
        catch (BadHttpRequestException ex)
        {
            if (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
                await PayloadTooLargeAsync(context, max).ConfigureAwait(false);
            else if (ex.StatusCode == StatusCodes.Status408RequestTimeout)
                await ApiResponses.WriteProblemAsync(context, Problems.RequestTimeout, "the request body arrived too slowly").ConfigureAwait(false);
            else
                await ApiResponses.WriteProblemAsync(context, Problems.BadRequest, "the request body could not be read").ConfigureAwait(false);
            return;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException)
        {
            return;
        }

        // A JSON body is parsed once, where it is used: by the runner method's decoder (or, for a method
        // taking raw bytes or text, checked there); a syntax error comes back as InvalidJson.
        try
        {
            await route.InvokeAsync(context, rented, length).ConfigureAwait(false);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            // A bug of ours, not the runner's: still an answer without internals, and a log line with them.
            await ApiResponses.WriteProblemAsync(context, Problems.InternalError, $"the API worker failed to handle the call to '{route.Route}'",
                exception: ex).ConfigureAwait(false);
        }
    }

    private static Task PayloadTooLargeAsync(HttpContext context, long max)
    {
        // Don't keep reading a body we refused.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = 0;
        context.Response.Headers.Connection = "close";
        return ApiResponses.WriteProblemAsync(context, Problems.PayloadTooLarge, $"the request body is larger than {max} bytes");
    }

    /// <summary>Reads the whole body into an ArrayPool buffer, consuming the pipe as it goes.</summary>
    private static async ValueTask<(byte[] Buffer, int Length)> ReadBodyAsync(PipeReader reader, long? declared, long max, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(declared is > 0 ? (int)declared.Value : 4096);
        var length = 0;
        try
        {
            if (declared == 0)
                return (buffer, 0);
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var data = result.Buffer;
                var total = length + data.Length;
                if (total > max)
                {
                    reader.AdvanceTo(data.End);
                    throw new BodyTooLargeException();
                }
                if (total > buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(max, Math.Max(total, (long)buffer.Length * 2)));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                data.CopyTo(buffer.AsSpan(length));
                length = (int)total;
                reader.AdvanceTo(data.End);
                if (result.IsCompleted || result.IsCanceled)
                    return (buffer, length);
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private enum ProbeKind { Live, Ready, Health }

    private Task Probe(HttpContext context, ProbeKind kind)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            return ApiResponses.WriteProblemAsync(context, Problems.MethodNotAllowed, "probes accept GET and HEAD only");
        }
        if (kind == ProbeKind.Live)
        {
            // A worker gone for good ends the host (respawn off): until it has ended, a liveness
            // probe must fail, so the orchestrator restarts the host rather than trust it.
            if (_lifeline.FailingReason is { } reason)
                return ApiResponses.WriteBodyAsync(context, StatusCodes.Status503ServiceUnavailable, ApiResponses.ProblemContentType,
                    ApiResponses.ProblemBody(Problems.HostFailing, "the host is ending: " + reason, context.TraceIdentifier, _worker, extensions: null));
            return ApiResponses.WriteJsonAsync(context, StatusCodes.Status200OK, _livez);
        }
        return ReadinessAsync(context, kind == ProbeKind.Health);
    }

    private async Task ReadinessAsync(HttpContext context, bool detailed)
    {
        // A failing host is ending: not ready either.
        var stopping = _lifeline.IsStopping || _lifeline.FailingReason is not null;
        var report = await _readiness.GetAsync().ConfigureAwait(false);
        var ok = !stopping && report.AllReady;
        var status = ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        if (!ok && !detailed)
        {
            // A problem body, not logged: a probe reports a state, it is not a failed request.
            await ApiResponses.WriteBodyAsync(context, status, ApiResponses.ProblemContentType,
                ProbeBodies.NotReady(report, stopping, context.TraceIdentifier, _worker)).ConfigureAwait(false);
            return;
        }
        var body = detailed ? ProbeBodies.Health(_worker, report, stopping) : ProbeBodies.Ready(_worker);
        await ApiResponses.WriteJsonAsync(context, status, body).ConfigureAwait(false);
    }

    private sealed class BodyTooLargeException : Exception;
}
