using Serving.Worker.Hosting;

namespace Serving.Worker.HttpFrontDoor;

/// <summary>One <c>POST &lt;route&gt;</c>: how its request reaches the runner.</summary>
internal abstract class ApiRoute(ApiConfig config, long maxBodyBytes)
{
    /// <summary>The largest request body this route accepts (413 above it).</summary>
    public long MaxBodyBytes { get; } = maxBodyBytes;

    public string Route { get; } = config.Route;
    public string RunnerName { get; } = config.Runner;
    public string MethodName { get; } = config.Method;
    public PayloadKind InputKind { get; } = config.InputKind;
    public string OutputContentType { get; } = ApiResponses.ContentTypeOf(config.OutputKind);

    /// <summary>What this surface's problem details call the input.</summary>
    protected const string InputNoun = "the request body";

    /// <summary>
    /// Calls the runner with the request body in <paramref name="rented"/>[0..<paramref name="length"/>)
    /// (an ArrayPool buffer this method now owns) and writes the response.
    /// </summary>
    public abstract Task InvokeAsync(HttpContext context, byte[] rented, int length);
}
