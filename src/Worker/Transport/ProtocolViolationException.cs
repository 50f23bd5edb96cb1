namespace Serving.Worker.Transport;

/// <summary>A frame the peer sent that breaks the protocol: the connection is closed with this reason.</summary>
internal sealed class ProtocolViolationException(string message) : Exception(message);
