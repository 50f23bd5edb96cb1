using System.Net;

namespace Serving.Runtime.Watching;

/// <summary>
/// Fetches a host's <c>GET /metrics</c> the way its protocol needs: HTTP/1.1 for an HTTP host; for a
/// gRPC host HTTP/2 with prior knowledge (h2c), since its API port speaks nothing else.
/// </summary>
public sealed class MetricsScraper : IDisposable
{
    private readonly HttpClient _client;
    private readonly Uri _uri;
    private readonly Version _version;

    public MetricsScraper(string hostUrl, ServingProtocol protocol, TimeSpan timeout)
    {
        _uri = new Uri(hostUrl.TrimEnd('/') + "/metrics");
        _version = protocol == ServingProtocol.Grpc ? HttpVersion.Version20 : HttpVersion.Version11;
        _client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = timeout };
    }

    /// <summary>One scrape; throws <see cref="HttpRequestException"/> (or a timeout) when the host does not answer 200.</summary>
    public async Task<MetricsScrape> ScrapeAsync(CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _uri)
        {
            Version = _version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        // Only the async path: the synchronous Send cannot speak HTTP/2.
        using var response = await _client.SendAsync(request, cancellation).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
        return MetricsScrape.Parse(text, DateTimeOffset.UtcNow);
    }

    public void Dispose() => _client.Dispose();
}
