namespace Serving.Runtime.Tests;

/// <summary>
/// Ids for hosts the tests create: the runtime takes a host's id from its caller (the cmdlets give the job's), so
/// tests number their own, one per host, as a session's jobs are.
/// </summary>
internal static class TestHostIds
{
    private static int _last;

    public static int Next() => Interlocked.Increment(ref _last);
}
