namespace Serving.Worker.Runners;

/// <summary>
/// A JSON method's input is not one JSON value (syntax, nesting deeper than the runner's JsonOptions
/// allow, bytes that are not UTF-8): the protocol's InvalidJson. <see cref="Exception.Message"/> is a
/// predicate (<c>is not valid JSON (syntax error in line 1, position 2)</c>) that each front door puts
/// its own noun before ("the request body", "the input").
/// </summary>
/// <remarks>
/// The runner's decoder is the only JSON pass a request gets: the API worker forwards the body
/// unparsed, and this is how a syntax error still comes back as 400 InvalidJson rather than as
/// InvalidInput of the method's shape.
/// </remarks>
internal sealed class RunnerJsonSyntaxException(string predicate, Exception? inner = null) : Exception(predicate, inner);
