namespace Serving.Worker.Tests.Infrastructure;

/// <summary>What no client-facing error text may contain: .NET names, exception names, stack traces, reader internals.</summary>
public static class ClientText
{
    public static readonly string[] Forbidden = ["System.", "Serving.", "Exception", " at ", ".cs:line", "LineNumber", "BytePositionInLine", "Path:"];

    public static void AssertClean(string text)
    {
        foreach (var forbidden in Forbidden)
            Assert.DoesNotContain(forbidden, text);
    }
}
