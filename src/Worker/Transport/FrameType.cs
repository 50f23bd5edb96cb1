namespace Serving.Worker.Transport;

/// <summary>The kinds of frame of the runner protocol (docs/worker-protocol.md, "Runner calls").</summary>
internal enum FrameType : byte
{
    /// <summary>Client → runner, first frame of a connection: version and (Tcp) the host's secret.</summary>
    Hello = 1,

    /// <summary>Runner → client: the hello was accepted; the runner's frame limit and worker name.</summary>
    Welcome = 2,

    /// <summary>Client → runner: one call (API index, method, timeout, request id, input).</summary>
    Call = 3,

    /// <summary>Client → runner: the caller of call <c>id</c> stopped waiting.</summary>
    Cancel = 4,

    /// <summary>Runner → client: the outcome of call <c>id</c> (an item status, then the output or a message).</summary>
    Reply = 5,

    /// <summary>Client → runner: is the runner serving? (readiness).</summary>
    Ping = 6,

    /// <summary>Runner → client: 1 serving, 0 not serving (draining).</summary>
    Pong = 7,

    /// <summary>Runner → client: the runner is draining; send no new calls on this connection.</summary>
    GoAway = 8,

    /// <summary>Runner → client before it closes the connection: why (bad hello, wrong secret, frame too large, malformed).</summary>
    Error = 15,
}
