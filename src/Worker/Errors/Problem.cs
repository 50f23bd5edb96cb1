using Grpc.Core;

namespace Serving.Worker.Errors;

/// <summary>
/// One kind of client-facing failure: a stable id (API: clients and scripts match on it), its
/// RFC 9457 problem type URI and fixed title, the HTTP status and, where the gRPC front door can
/// raise it, the gRPC status code. Every instance lives in <see cref="Problems"/>.
/// </summary>
internal sealed class Problem
{
    /// <summary>The prefix of every problem type URI.</summary>
    public const string TypePrefix = "urn:serving:problem:";

    public Problem(string id, int status, StatusCode? grpcStatus, string title)
    {
        Id = id;
        Status = status;
        GrpcStatus = grpcStatus;
        Title = title;
        Type = TypePrefix + Kebab(id);
    }

    /// <summary>Stable PascalCase id, the <c>errorId</c> member of a problem body.</summary>
    public string Id { get; }

    /// <summary>HTTP status code.</summary>
    public int Status { get; }

    /// <summary>gRPC status code of the same failure on the gRPC front door; null when HTTP only.</summary>
    public StatusCode? GrpcStatus { get; }

    /// <summary>Fixed, human-readable summary of the problem type (the same for every occurrence).</summary>
    public string Title { get; }

    /// <summary><c>urn:serving:problem:&lt;kebab-case id&gt;</c>.</summary>
    public string Type { get; }

    /// <summary>
    /// A server-side failure: written to the worker's log (one line with the error id and request id).
    /// Client errors (4xx) are not logged, so a client cannot flood the log.
    /// </summary>
    public bool IsServerError => Status >= 500;

    public override string ToString() => Id;

    private static string Kebab(string id)
    {
        var text = new System.Text.StringBuilder(id.Length + 4);
        for (var i = 0; i < id.Length; i++)
        {
            var c = id[i];
            if (char.IsUpper(c))
            {
                if (i > 0)
                    text.Append('-');
                text.Append(char.ToLowerInvariant(c));
            }
            else
            {
                text.Append(c);
            }
        }
        return text.ToString();
    }
}
