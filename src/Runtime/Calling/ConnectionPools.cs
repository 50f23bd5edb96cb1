namespace Serving.Runtime.Calling;

/// <summary>
/// The session's connections to hosts, for <see cref="ApiClient"/>: one HttpClient (its own connection pool) per
/// URL and host generation. After a reload or a scale-down the old API workers stop accepting, but answer on the
/// connections they have until they drain in their turn; a pool kept across the switch would send the next call
/// to the old code. So a call that names a newer generation than the URL's pool retires that pool — its
/// connections are closed once no call uses them — and connects anew, to the generation serving now.
/// </summary>
internal static class ConnectionPools
{
    private static readonly object Gate = new();
    private static readonly Dictionary<string, Pool> ByUrl = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The pool for <paramref name="url"/> at <paramref name="generation"/> or later; dispose the lease when the call ends.</summary>
    public static Lease Take(string url, int generation)
    {
        Pool? retired = null;
        Pool pool;
        lock (Gate)
        {
            if (!ByUrl.TryGetValue(url, out var current) || generation > current.Generation)
            {
                if (current is not null)
                {
                    current.Retired = true;
                    if (current.Users == 0) retired = current;
                }
                current = ByUrl[url] = new Pool(generation);
            }
            current.Users++;
            pool = current;
        }
        retired?.Client.Dispose();
        return new Lease(pool);
    }

    private static void Release(Pool pool)
    {
        lock (Gate)
        {
            if (--pool.Users > 0 || !pool.Retired) return;
        }
        pool.Client.Dispose();
    }

    internal sealed class Pool(int generation)
    {
        public int Generation { get; } = generation;
        public int Users { get; set; }
        public bool Retired { get; set; }

        // A call's timeout is its own token's.
        public HttpClient Client { get; } = new(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>A call's use of a pool: dispose it once the answer was read.</summary>
    internal readonly struct Lease(Pool pool) : IDisposable
    {
        public HttpClient Client => pool.Client;

        public void Dispose() => Release(pool);
    }
}
