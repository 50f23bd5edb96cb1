using Serving.Worker.Hosting;

namespace Serving.Worker.Transport;

/// <summary>
/// What an API sends its runner with every call besides the input: its index in host.json's
/// <c>apis</c> (the runner's target for that API's batch settings), the method's name in UTF-8, and
/// whether the input may be an <c>{"instances":[…]}</c> envelope (a JSON API). Built once per API,
/// shared by the HTTP surface and the gRPC front door.
/// </summary>
internal sealed class RemoteMethod(ApiConfig config)
{
    private readonly ReadOnlyMemory<byte> _method = System.Text.Encoding.UTF8.GetBytes(config.Method);
    private readonly short _apiIndex = (short)config.Index;
    private readonly byte _flags = config.InputKind == PayloadKind.Json ? CallHeader.InstancesAllowed : (byte)0;

    /// <summary>A call's header: it waits at most <paramref name="timeout"/> (at least 1 ms), under the client's request id.</summary>
    public CallHeader Header(TimeSpan timeout, string requestId) =>
        new(_apiIndex, _method, (uint)Math.Max(1, timeout.TotalMilliseconds), _flags, requestId);
}
