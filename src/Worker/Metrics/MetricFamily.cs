namespace Serving.Worker.Metrics;

/// <summary>
/// One metric as Prometheus sees it. The id is what a segment stores (names never are), so a family's
/// id, buckets and scale are a contract between the workers writing segments and the one reading them —
/// all the same build of the worker.
/// </summary>
/// <param name="Id">The family's number in a segment record.</param>
/// <param name="Name">The Prometheus name, with its unit (and <c>_total</c> for counters).</param>
/// <param name="Kind">Counter, gauge or histogram.</param>
/// <param name="Help">The <c># HELP</c> text.</param>
/// <param name="UpperBounds">A histogram's bucket upper bounds, ascending (the +Inf bucket is implied); empty otherwise.</param>
/// <param name="Scale">
/// A histogram's sum is stored as a whole number of 1/<c>Scale</c> units (seconds as nanoseconds: 1e9), so it is
/// added atomically; exported divided back.
/// </param>
internal sealed record MetricFamily(int Id, string Name, MetricKind Kind, string Help, double[] UpperBounds, double Scale = 1)
{
    /// <summary>Records of a histogram series: one per bucket, +Inf included, then the sum.</summary>
    public int HistogramRecords => UpperBounds.Length + 2;
}
