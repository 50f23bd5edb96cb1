using System.Buffers;
using Serving.Worker.Errors;
using Serving.Worker.Hosting;

namespace Serving.Worker.Runners;

/// <summary>
/// The JSON check of a JSON API whose method takes raw bytes or text (<see cref="BoundMethod.TakesRawInput"/>):
/// its decoder parses nothing, so the body is checked here, by the rules a front door promises for JSON
/// (<see cref="JsonSyntax"/>: one value, at most 256 levels deep, UTF-8). A method with a JSON type
/// needs none: its decoder is the check (<see cref="RunnerJsonSyntaxException"/>).
/// </summary>
internal static class JsonInputGate
{
    /// <summary>Whether calls through an API of <paramref name="input"/> kind to <paramref name="method"/> need the check.</summary>
    public static bool Applies(PayloadKind input, BoundMethod method) => input == PayloadKind.Json && method.TakesRawInput;

    /// <summary>Throws <see cref="RunnerJsonSyntaxException"/> unless <paramref name="input"/> is one JSON value.</summary>
    public static void Check(ReadOnlySpan<byte> input)
    {
        if (Problem(input) is { } problem)
            throw new RunnerJsonSyntaxException(problem);
    }

    /// <summary>Why <paramref name="input"/> is not one JSON value (a predicate), or null when it is.</summary>
    public static string? Problem(in ReadOnlySequence<byte> input) =>
        input.IsSingleSegment ? Problem(input.FirstSpan) : Problem(input.ToArray());

    private static string? Problem(ReadOnlySpan<byte> input) =>
        JsonSyntax.IsValid(input) ? null : JsonSyntax.Explain(input) ?? "is not valid JSON";
}
