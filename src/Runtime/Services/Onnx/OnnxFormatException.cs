namespace Serving.Runtime.Services.Onnx;

/// <summary>A file that is not a readable ONNX model; the message says what was wrong, for a manifest error.</summary>
public sealed class OnnxFormatException : Exception
{
    public OnnxFormatException(string message) : base(message) { }
    public OnnxFormatException(string message, Exception innerException) : base(message, innerException) { }
}
