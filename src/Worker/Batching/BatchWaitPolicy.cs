namespace Serving.Worker.Batching;

/// <summary>
/// How long an idle dispatcher holds the items it has before calling the model, hoping for more
/// (pure; <see cref="BatchDispatcher"/> asks again at every arrival and when the wait ends).
/// </summary>
/// <remarks>
/// <para>
/// BentoML's CorkDispatcher, the anchor, fits <c>t(n) = a·n + b</c> over recent batches and keeps
/// waiting while <c>n·(wait + a) ≤ 0.95 · mean wait</c> of past requests, giving up (and failing the
/// oldest request) once <c>w₀ + a·n + b ≥ max latency</c>. That waits on every request even when
/// nothing else is coming (one client pays a tick per call), and its threshold has no model behind it.
/// </para>
/// <para>
/// Here the wait is a trade priced with the same fit and an arrival-rate estimate λ. Holding the n
/// queued items Δ longer delays each of them by Δ, plus the <c>a·λΔ</c> the items joining them add to
/// the run. Each of the <c>λΔ</c> items expected meanwhile would otherwise wait for this call to end and
/// then pay a call's fixed cost b of its own; joining saves it about <c>b − Δ</c> (more when the model is
/// busy after this call). The net saving in item-seconds,
/// <c>S(Δ) = λΔ(b − Δ) − nΔ(1 + aλ)</c>, is positive only for <c>Δ &lt; Δ* = b − n·a − n/λ</c>
/// and largest at <c>Δ*/2</c>. So:
/// </para>
/// <list type="bullet">
/// <item>the batch is full (n ≥ max batch size), or the fit shows no fixed cost to share (b = 0), or no
/// rate is known: no wait;</item>
/// <item>Δ* ≤ 0 — the expected arrivals during one fixed cost do not outnumber the waiting items, i.e.
/// <c>λ·b ≤ n·(1 + a·λ)</c>: no wait. One client calling in turn has λ ≤ 1/(a + b), so it never waits;
/// nor does a crowd of clients whose requests piled up during the last call (n large);</item>
/// <item>else wait Δ*/2, but no longer than it takes the expected arrivals to fill the batch
/// (<c>(max − n)/λ</c>), and never so long that the oldest item's wait plus the predicted run time of the
/// batch expected by then exceeds the latency bound: <c>w₀ + Δ + a·(n + λΔ) + b ≤ max latency</c>.</item>
/// </list>
/// Re-asked at every arrival, the rule keeps waiting exactly while the marginal saving
/// <c>S'(0) = λb − n(1 + aλ)</c> is positive, and stops at the latency bound whatever the fit says.
/// </remarks>
internal static class BatchWaitPolicy
{
    /// <summary>The wait, in seconds, before calling the model with <paramref name="queued"/> items (0: call now).</summary>
    /// <param name="queued">Items waiting (≥ 1).</param>
    /// <param name="oldestWait">How long the oldest has waited, in seconds.</param>
    /// <param name="arrivalsPerSecond">The arrival-rate estimate (0: unknown).</param>
    /// <param name="perItem">The fit's a, in seconds.</param>
    /// <param name="perCall">The fit's b, in seconds.</param>
    /// <param name="maxBatchSize">The most items one call takes.</param>
    /// <param name="maxLatency">The latency bound, in seconds.</param>
    public static double WaitSeconds(int queued, double oldestWait, double arrivalsPerSecond, double perItem, double perCall,
        int maxBatchSize, double maxLatency)
    {
        if (queued >= maxBatchSize || arrivalsPerSecond <= 0 || perCall <= 0)
            return 0;
        var worthWaiting = perCall - queued * perItem - queued / arrivalsPerSecond;
        if (worthWaiting <= 0)
            return 0;
        var wait = worthWaiting / 2;
        wait = Math.Min(wait, (maxBatchSize - queued) / arrivalsPerSecond);
        // w₀ + Δ + a·(n + λΔ) + b ≤ L  ⇔  Δ ≤ (L − w₀ − a·n − b) / (1 + a·λ)
        var latencyRoom = (maxLatency - oldestWait - queued * perItem - perCall) / (1 + perItem * arrivalsPerSecond);
        wait = Math.Min(wait, latencyRoom);
        return wait > 0 ? wait : 0;
    }
}
