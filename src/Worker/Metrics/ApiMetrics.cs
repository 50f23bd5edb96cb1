using System.Diagnostics;

namespace Serving.Worker.Metrics;

/// <summary>
/// One API's request metrics in this worker, for one protocol: requests by status, their duration, those in
/// progress. A request costs four atomic adds; a status's counter is added to the segment when first seen.
/// </summary>
internal sealed class ApiMetrics
{
    // HTTP status codes 100–599, or gRPC status codes 0–16: one slot each.
    private const int Slots = 600;

    private readonly MetricSegment? _segment;
    private readonly string _labels;
    private readonly MetricCell _inProgress;
    private readonly HistogramCells? _duration;
    private readonly MetricCell[] _byStatus = new MetricCell[Slots];
    private readonly bool[] _made = new bool[Slots];

    public ApiMetrics(MetricSegment? segment, string route, string protocol)
    {
        _segment = segment;
        _labels = $"api=\"{MetricsFiles.EscapeLabelValue(route)}\",protocol=\"{protocol}\"";
        if (segment is null)
            return;
        _inProgress = segment.Cell(MetricFamilies.RequestsInProgress, MetricSegmentLayout.ValueBucket, _labels);
        _duration = segment.Histogram(MetricFamilies.RequestDuration, _labels);
    }

    /// <summary>A request begins: returns its start timestamp for <see cref="End"/>.</summary>
    public long Begin()
    {
        _inProgress.Increment();
        return Stopwatch.GetTimestamp();
    }

    /// <summary>An HTTP request was answered with <paramref name="status"/>.</summary>
    public void End(long start, int status) => End(start, status, null);

    /// <summary>A gRPC call ended with status <paramref name="code"/> (its name is the label: OK, INVALID_ARGUMENT, …).</summary>
    public void End(long start, global::Grpc.Core.StatusCode code) => End(start, (int)code, GrpcStatusName(code));

    private void End(long start, int slot, string? name)
    {
        _inProgress.Decrement();
        _duration?.ObserveSince(start);
        if (_segment is null || (uint)slot >= Slots)
            return;
        if (!Volatile.Read(ref _made[slot]))
        {
            // Two threads may both get here: the segment hands both the same cell.
            _byStatus[slot] = _segment.Cell(MetricFamilies.Requests, MetricSegmentLayout.ValueBucket,
                $"{_labels},status=\"{name ?? slot.ToString(System.Globalization.CultureInfo.InvariantCulture)}\"");
            Volatile.Write(ref _made[slot], true);
        }
        _byStatus[slot].Increment();
    }

    /// <summary>The status's name as gRPC's documentation spells it (DEADLINE_EXCEEDED).</summary>
    public static string GrpcStatusName(global::Grpc.Core.StatusCode code) => code switch
    {
        global::Grpc.Core.StatusCode.OK => "OK",
        global::Grpc.Core.StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        global::Grpc.Core.StatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        global::Grpc.Core.StatusCode.NotFound => "NOT_FOUND",
        global::Grpc.Core.StatusCode.AlreadyExists => "ALREADY_EXISTS",
        global::Grpc.Core.StatusCode.PermissionDenied => "PERMISSION_DENIED",
        global::Grpc.Core.StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        global::Grpc.Core.StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        global::Grpc.Core.StatusCode.OutOfRange => "OUT_OF_RANGE",
        global::Grpc.Core.StatusCode.Unimplemented => "UNIMPLEMENTED",
        global::Grpc.Core.StatusCode.Unavailable => "UNAVAILABLE",
        global::Grpc.Core.StatusCode.DataLoss => "DATA_LOSS",
        global::Grpc.Core.StatusCode.Unauthenticated => "UNAUTHENTICATED",
        global::Grpc.Core.StatusCode.Cancelled => "CANCELLED",
        global::Grpc.Core.StatusCode.Aborted => "ABORTED",
        global::Grpc.Core.StatusCode.Internal => "INTERNAL",
        _ => "UNKNOWN",
    };
}
