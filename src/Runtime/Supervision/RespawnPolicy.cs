namespace Serving.Runtime.Supervision;

/// <summary>
/// When to restart a crashed worker (systemd/PM2 semantics): exponential backoff from
/// <see cref="InitialDelay"/> doubling up to <see cref="MaxDelay"/>; a worker that stayed up for
/// <see cref="StablePeriod"/> starts over at the initial delay; after <see cref="MaxFastCrashes"/>
/// crashes in a row that each came before the stable period, the worker is given up on (Failed).
/// Pure: it looks only at the numbers it is given.
/// </summary>
public sealed class RespawnPolicy
{
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan StablePeriod { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxFastCrashes { get; init; } = 5;

    public static RespawnPolicy Default { get; } = new();

    /// <summary>
    /// Given how many fast crashes came before this one and how long the worker ran this time,
    /// returns the delay before the next start and the new fast-crash count, or null to give up.
    /// </summary>
    public (TimeSpan Delay, int FastCrashes)? Next(int fastCrashesBefore, TimeSpan uptime)
    {
        var fast = uptime < StablePeriod ? fastCrashesBefore + 1 : 0;
        if (fast >= MaxFastCrashes) return null;
        var exponent = Math.Max(0, fast - 1);
        var delay = TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, InitialDelay.Ticks * (1L << Math.Min(exponent, 30))));
        return (delay, fast);
    }
}
