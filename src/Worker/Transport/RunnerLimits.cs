using Serving.Worker.Hosting;

namespace Serving.Worker.Transport;

/// <summary>Frame limits shared by both ends of the runner hop.</summary>
internal static class RunnerLimits
{
    /// <summary>Room for a call's header (API index, method name, request id) on top of the body limit.</summary>
    public const int CallHeaderRoom = 1024;

    public static long MaxFramePayload(HostConfig config) =>
        config.MaxMessageBytes ?? config.MaxRequestBodyBytes + CallHeaderRoom;
}
