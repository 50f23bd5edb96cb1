namespace Serving.Worker.Batching;

/// <summary>
/// The run time of one batch call as a function of its size, <c>t(n) = a·n + b</c> (a: the cost per
/// item, b: the fixed cost of a call), fitted by least squares over the most recent calls. Not
/// thread-safe: its owner guards it.
/// </summary>
/// <remarks>
/// The window is short (<see cref="Window"/> calls) so the fit follows a model whose speed changes
/// (warm-up, a shared device). Without two distinct sizes in the window the slope is unknown; then
/// <c>a = mean t / mean n</c> and <c>b = 0</c>: pessimistic for the latency bound (a bigger batch is
/// predicted to take proportionally longer) and claiming no fixed cost, so nobody waits on a guess.
/// A fit with a negative slope (noise, or a model whose cost does not grow with the batch) becomes
/// <c>a = 0, b = mean t</c>; one with a negative intercept a line through the origin.
/// </remarks>
internal sealed class BatchCostModel
{
    /// <summary>How many recent calls the fit uses.</summary>
    public const int Window = 32;

    private readonly int[] _sizes = new int[Window];
    private readonly double[] _seconds = new double[Window];
    private int _next;
    private int _count;

    /// <summary>Seconds per item.</summary>
    public double PerItem { get; private set; }

    /// <summary>Seconds per call, whatever its size.</summary>
    public double PerCall { get; private set; }

    /// <summary>Calls observed (in total, not only in the window).</summary>
    public long Observations { get; private set; }

    /// <summary>Items the recent calls took per second of their run time (0 before any call).</summary>
    public double Throughput { get; private set; }

    /// <summary>The predicted run time of a call of <paramref name="size"/> items, in seconds.</summary>
    public double Predict(int size) => PerItem * size + PerCall;

    /// <summary>Adds a call of <paramref name="size"/> items that ran <paramref name="seconds"/>, and fits again.</summary>
    public void Observe(int size, double seconds)
    {
        if (size < 1 || !double.IsFinite(seconds) || seconds < 0)
            return;
        _sizes[_next] = size;
        _seconds[_next] = seconds;
        _next = (_next + 1) % Window;
        _count = Math.Min(_count + 1, Window);
        Observations++;
        Fit();
    }

    private void Fit()
    {
        double sumN = 0, sumT = 0;
        for (var i = 0; i < _count; i++)
        {
            sumN += _sizes[i];
            sumT += _seconds[i];
        }
        var meanN = sumN / _count;
        var meanT = sumT / _count;
        Throughput = sumT > 0 ? sumN / sumT : 0;

        double sxx = 0, sxy = 0, snn = 0, snt = 0;
        for (var i = 0; i < _count; i++)
        {
            var dn = _sizes[i] - meanN;
            sxx += dn * dn;
            sxy += dn * (_seconds[i] - meanT);
            snn += (double)_sizes[i] * _sizes[i];
            snt += _sizes[i] * _seconds[i];
        }

        if (sxx < 1e-9)
        {
            PerItem = meanT / meanN;
            PerCall = 0;
            return;
        }
        var a = sxy / sxx;
        var b = meanT - a * meanN;
        if (a < 0)
        {
            a = 0;
            b = meanT;
        }
        else if (b < 0)
        {
            a = snt / snn;
            b = 0;
        }
        PerItem = a;
        PerCall = b;
    }
}
