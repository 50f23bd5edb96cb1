using System.Collections.Frozen;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Serving.Grpc.V1;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;
using Serving.Worker.Metrics;
using ServingGrpc = Serving.Grpc.V1.Serving;

namespace Serving.Worker.GrpcFrontDoor;

/// <summary>
/// <c>serving.v1.Serving</c> (module/proto/serving.proto): every API of the service callable by name.
/// A frozen-dictionary lookup on the name, the input's bytes passed on as they are, one runner call,
/// the result wrapped without a copy. No per-call logging, no LINQ on this path.
/// </summary>
internal sealed class FrontDoorService : ServingGrpc.ServingBase
{
    private readonly FrozenDictionary<string, (FrontDoorApi Api, ApiMetrics Metrics)> _apis;
    private readonly ListApisReply _list;
    private readonly AccessLog? _accessLog;

    public FrontDoorService(IReadOnlyList<FrontDoorApi> apis, WorkerMetrics metrics, AccessLog? accessLog = null)
    {
        _accessLog = accessLog;
        // Both "/route" and "route" are keys, so a lookup never allocates.
        var byName = new Dictionary<string, (FrontDoorApi, ApiMetrics)>(StringComparer.OrdinalIgnoreCase);
        _list = new ListApisReply();
        foreach (var api in apis)
        {
            var entry = (api, metrics.Api(api.Route, "grpc"));
            byName[api.Route] = entry;
            byName[api.Route[1..]] = entry;
            _list.Apis.Add(new ApiInfo
            {
                Route = api.Route,
                Runner = api.RunnerName,
                Method = api.MethodName,
                Input = api.InputKind.ToString(),
                Output = api.OutputKind.ToString(),
            });
        }
        _apis = byName.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    public override async Task<CallReply> Call(CallRequest request, ServerCallContext context)
    {
        var (api, metrics) = await FindAsync(request.Api, context).ConfigureAwait(false);
        var outcome = new CallOutcome(metrics.Begin());
        try
        {
            return Reply(api.OutputKind, await InvokeAsync(api, request, context, outcome).ConfigureAwait(false));
        }
        finally
        {
            Finish("Call", api, metrics, outcome, request, context);
        }
    }

    public override async Task CallStream(CallRequest request, IServerStreamWriter<CallReply> responseStream, ServerCallContext context)
    {
        var (api, metrics) = await FindAsync(request.Api, context).ConfigureAwait(false);
        var outcome = new CallOutcome(metrics.Begin());
        try
        {
            var output = await InvokeAsync(api, request, context, outcome).ConfigureAwait(false);
            try
            {
                await WriteAsync(api.OutputKind, output, responseStream).ConfigureAwait(false);
            }
            catch (Exception ex) when (context.CancellationToken.IsCancellationRequested && ex is OperationCanceledException or InvalidOperationException or IOException)
            {
                // The client went away mid-stream: nothing to report.
                outcome.Status = StatusCode.Cancelled;
            }
        }
        finally
        {
            Finish("CallStream", api, metrics, outcome, request, context);
        }
    }

    /// <summary>How a call went, for its metrics and access-log line.</summary>
    private sealed class CallOutcome(long start)
    {
        public long Start { get; } = start;
        public StatusCode Status { get; set; } = StatusCode.OK;
        public long BytesOut { get; set; }
    }

    /// <summary>The API's output; a failure sets the call's status (and sends the headers first, but for a cancelled or late call) and propagates.</summary>
    private static async Task<ByteString> InvokeAsync(FrontDoorApi api, CallRequest request, ServerCallContext context, CallOutcome outcome)
    {
        try
        {
            var output = await api.CallAsync(Input(request), context).ConfigureAwait(false);
            outcome.BytesOut = output.Length;
            return output;
        }
        catch (RpcException ex)
        {
            outcome.Status = ex.StatusCode;
            if (ex.StatusCode is not (StatusCode.Cancelled or StatusCode.DeadlineExceeded))
                await SendHeadersAsync(context).ConfigureAwait(false);
            throw;
        }
        catch
        {
            outcome.Status = StatusCode.Unknown;
            throw;
        }
    }

    /// <summary>Counts the call (serving_request_total, …_duration_seconds, …_in_progress) and writes its access-log line.</summary>
    private void Finish(string method, FrontDoorApi api, ApiMetrics metrics, CallOutcome outcome, CallRequest request, ServerCallContext context)
    {
        metrics.End(outcome.Start, outcome.Status);
        _accessLog?.Write(method, api.Route, ApiMetrics.GrpcStatusName(outcome.Status), "grpc", outcome.Start, request.CalculateSize(), outcome.BytesOut,
            context.GetHttpContext().TraceIdentifier);
    }

    private static async Task WriteAsync(PayloadKind kind, ByteString output, IServerStreamWriter<CallReply> responseStream)
    {
        if (kind != PayloadKind.Json || JsonArraySplitter.Split(output.Span) is not { } elements)
        {
            await responseStream.WriteAsync(Reply(kind, output)).ConfigureAwait(false);
            return;
        }

        // One reply per element, each a slice of the runner's result (no copies). The replies are
        // buffered and flushed every FlushEvery elements and at the end, not one flush each.
        const int FlushEvery = 64;
        var memory = output.Memory;
        var buffered = new WriteOptions(WriteFlags.BufferHint);
        for (var i = 0; i < elements.Count; i++)
        {
            var (start, length) = elements[i];
            var last = i == elements.Count - 1;
            responseStream.WriteOptions = last || (i + 1) % FlushEvery == 0 ? null : buffered;
            await responseStream.WriteAsync(new CallReply { Json = UnsafeByteOperations.UnsafeWrap(memory.Slice(start, length)) }).ConfigureAwait(false);
        }
    }

    public override Task<ListApisReply> ListApis(ListApisRequest request, ServerCallContext context) => Task.FromResult(_list);

    /// <summary>
    /// Before an error status: sends the response headers (with x-serving-worker) on their own, so
    /// that clients see them as initial metadata rather than inside a trailers-only response.
    /// </summary>
    private static async Task SendHeadersAsync(ServerCallContext context)
    {
        try
        {
            await context.WriteResponseHeadersAsync([]).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or OperationCanceledException)
        {
            // Already sent, or the client is gone: the status still goes out in the trailers.
        }
    }

    /// <summary>
    /// The API called; an unknown name is NOT_FOUND (headers first, like every error) and is not counted: the
    /// name is the client's, and a label made of it would be unbounded.
    /// </summary>
    private async ValueTask<(FrontDoorApi Api, ApiMetrics Metrics)> FindAsync(string name, ServerCallContext context)
    {
        if (_apis.TryGetValue(name, out var api))
            return api;
        var error = GrpcProblems.Create(context, Problems.NotFound, name.Length == 0 ? "no API named: 'api' is empty" : $"no API named '{name}'");
        await SendHeadersAsync(context).ConfigureAwait(false);
        throw error;
    }

    /// <summary>The input as bytes, whichever of json / text / data carries it (a Json API's is parsed by the runner: a syntax error comes back as InvalidJson).</summary>
    private static ByteString Input(CallRequest request)
    {
        var input = request.InputCase switch
        {
            CallRequest.InputOneofCase.Json => request.Json,
            CallRequest.InputOneofCase.Data => request.Data,
            CallRequest.InputOneofCase.Text => ByteString.CopyFromUtf8(request.Text),
            _ => ByteString.Empty,
        };
        return input;
    }

    private static CallReply Reply(PayloadKind kind, ByteString output) => kind switch
    {
        PayloadKind.Json => new CallReply { Json = output },
        PayloadKind.Text => new CallReply { Text = output.ToStringUtf8() },
        _ => new CallReply { Data = output },
    };
}

/// <summary>Finds the elements of a top-level JSON array.</summary>
internal static class JsonArraySplitter
{
    /// <summary>
    /// The (start, length) of each element when <paramref name="json"/> is exactly one JSON array
    /// (whitespace around it allowed); null when it is anything else or not valid JSON.
    /// </summary>
    public static List<(int Start, int Length)>? Split(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 256 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                return null;
            var elements = new List<(int, int)>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                elements.Add((start, (int)reader.BytesConsumed - start));
            }
            if (reader.TokenType != JsonTokenType.EndArray || reader.Read())
                return null;
            return elements;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
