using System.Net;
using System.Net.Http.Headers;

namespace Serving.Runtime.Calling;

/// <summary>
/// Calls one API of a host: POST &lt;route&gt; over HTTP/1.1, or serving.v1.Serving/Call over h2c for a gRPC host,
/// framed by <see cref="GrpcCallMessages"/> on HttpClient (no gRPC assembly in pwsh). A failure the host reports is
/// a <see cref="ServingException"/> made from its <see cref="ApiProblem"/>; a host that cannot be reached, or an
/// answer that is not what the protocol says, is <see cref="ErrorIds.ApiCallFailed"/>.
/// </summary>
public static class ApiClient
{
    /// <summary>
    /// Calls <paramref name="route"/> at <paramref name="url"/> with <paramref name="input"/>; returns the API's output.
    /// <paramref name="generation"/> is the host's generation as the caller saw it (0 when unknown, for -Url): a call
    /// that names a newer one than the last call to that URL connects anew (see <see cref="ConnectionPools"/>).
    /// </summary>
    public static async Task<ApiPayload> CallAsync(string url, ServingProtocol protocol, string route, ApiPayload input,
        TimeSpan timeout, CancellationToken cancellationToken, int generation = 0)
    {
        route = route.StartsWith('/') ? route : "/" + route;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var lease = ConnectionPools.Take(url, generation);
        try
        {
            return protocol == ServingProtocol.Grpc
                ? await CallGrpcAsync(lease.Client, url, route, input, timeout, deadline.Token).ConfigureAwait(false)
                : await CallHttpAsync(lease.Client, url, route, input, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServingException(ErrorIds.ApiCallFailed, ServingErrorKind.OperationTimeout,
                $"{route}: no answer from {url} within {timeout.TotalSeconds:0.###} s (-TimeoutSec).", route);
        }
        catch (HttpRequestException e)
        {
            var hint = protocol == ServingProtocol.Grpc ? "" : " If it is a gRPC host, give -Protocol Grpc with -Url, or name the host.";
            throw new ServingException(ErrorIds.ApiCallFailed, ServingErrorKind.ResourceUnavailable,
                $"{route}: {url} could not be called: {e.Message}{hint}", route, e);
        }
        catch (FormatException e)
        {
            throw new ServingException(ErrorIds.ApiCallFailed, ServingErrorKind.InvalidData, $"{route}: {e.Message}", route, e);
        }
    }

    private static async Task<ApiPayload> CallHttpAsync(HttpClient client, string url, string route, ApiPayload input, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url.TrimEnd('/') + route)
        {
            Content = new ByteArrayContent(input.Bytes),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(input.ContentType);
        using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (response.IsSuccessStatusCode) return ApiPayload.Of(ApiPayload.KindOf(mediaType), body);
        throw ApiProblem.FromHttp(route, (int)response.StatusCode, response.ReasonPhrase, mediaType, body,
            HeaderOf(response.Headers, "X-Request-Id")).ToException();
    }

    private static async Task<ApiPayload> CallGrpcAsync(HttpClient client, string url, string route, ApiPayload input, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url.TrimEnd('/') + GrpcCallMessages.CallPath)
        {
            // HttpClient's default version applies to GetAsync and friends, not to a message we build: h2c here,
            // with prior knowledge (a gRPC host's port speaks nothing else).
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(GrpcCallMessages.EncodeCallRequest(route, input)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        // The host's own deadline for the call (the runner's CancellationToken fires with it), in milliseconds.
        request.Headers.TryAddWithoutValidation("grpc-timeout", $"{Math.Max(1, (long)timeout.TotalMilliseconds)}m");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new ServingException(ErrorIds.ApiCallFailed, ServingErrorKind.InvalidOperation,
                $"{route}: {url} answered HTTP {(int)response.StatusCode}, not a gRPC response: is it a gRPC host?", route);
        // A call that fails before any message is "trailers-only": the status comes in the headers, not trailers.
        string? Field(string name) => HeaderOf(response.TrailingHeaders, name) ?? HeaderOf(response.Headers, name);
        var status = Field("grpc-status");
        if (status is null)
            throw new FormatException("The gRPC reply has no grpc-status.");
        if (status != "0")
        {
            var code = int.TryParse(status, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var c) ? c : 2;
            throw ApiProblem.FromGrpc(route, code, Field("grpc-message"), Field(ApiProblem.ErrorIdTrailer),
                Field(ApiProblem.RequestIdTrailer), HeaderOf(response.Headers, "x-serving-worker")).ToException();
        }
        return GrpcCallMessages.DecodeCallReply(body);
    }

    private static string? HeaderOf(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
