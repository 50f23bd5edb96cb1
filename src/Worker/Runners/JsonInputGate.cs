using System.Buffers;
using Serving.Worker.Errors;

namespace Serving.Worker.Runners;

/// <summary>
/// The JSON check of a JSON API whose method takes raw bytes or text (<see cref="BoundMethod.TakesRawInput"/>):
/// its decoder parses nothing, so the body is checked here, by the rules a front door promises for JSON
/// (<see cref="JsonSyntax"/>: one value, at most 256 levels deep, UTF-8). A method with a JSON type
/// needs none: its decoder is the check (<see cref="RunnerJsonSyntaxException"/>).
/// </summary>
internal static class JsonInputGate
{
    /// <summary>Throws <see cref="RunnerJsonSyntaxException"/> unless <paramref name="input"/> is one JSON value.</summary>
    public static void Check(ReadOnlySpan<byte> input)
    {
        if (!JsonSyntax.IsValid(input))
            throw new RunnerJsonSyntaxException(JsonSyntax.Explain(input) ?? "is not valid JSON");
    }

    /// <summary>Why <paramref name="input"/> is not one JSON value (a predicate), or null when it is.</summary>
    public static string? Problem(in ReadOnlySequence<byte> input)
    {
        var span = input.IsSingleSegment ? input.FirstSpan : input.ToArray();
        return JsonSyntax.IsValid(span) ? null : JsonSyntax.Explain(span) ?? "is not valid JSON";
    }
}
