using Serving.Runtime.Calling;
using Xunit;

namespace Serving.Runtime.Tests;

/// <summary>Invoke-ServingApi's connections: one pool per URL and host generation, the older retired once no call uses it.</summary>
public sealed class ConnectionPoolsTests
{
    private static string NewUrl() => $"http://127.0.0.1:{Random.Shared.Next(1024, 65535)}/{Guid.NewGuid():N}";

    [Fact]
    public void Calls_of_one_generation_share_their_connections_and_an_unknown_generation_takes_the_newest()
    {
        var url = NewUrl();
        HttpClient first, second, unknown;
        using (var a = ConnectionPools.Take(url, 2)) first = a.Client;
        using (var b = ConnectionPools.Take(url, 2)) second = b.Client;
        using (var c = ConnectionPools.Take(url, 0)) unknown = c.Client;
        Assert.Same(first, second);
        Assert.Same(first, unknown);
    }

    [Fact]
    public void A_newer_generation_connects_anew_and_the_old_pool_is_closed_once_its_last_call_ended()
    {
        var url = NewUrl();
        var inFlight = ConnectionPools.Take(url, 1);
        var old = inFlight.Client;
        using (var next = ConnectionPools.Take(url, 2))
        {
            Assert.NotSame(old, next.Client);
            // The call still running on the old pool keeps it open.
            Assert.False(IsDisposed(old));
        }
        inFlight.Dispose();
        Assert.True(IsDisposed(old));
        // A caller holding an older snapshot does not bring the old pool back.
        using var stale = ConnectionPools.Take(url, 1);
        Assert.NotSame(old, stale.Client);
        Assert.False(IsDisposed(stale.Client));
    }

    private static bool IsDisposed(HttpClient client)
    {
        try
        {
            client.CancelPendingRequests();
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }
}
