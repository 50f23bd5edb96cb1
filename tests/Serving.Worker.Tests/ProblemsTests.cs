using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Serving.Worker.HttpFrontDoor;
using Serving.Worker.Errors;

namespace Serving.Worker.Tests;

/// <summary>The problem types are API: pinned by their literal text, documented, written as RFC 9457 says.</summary>
public class ProblemsTests
{
    /// <summary>Literal copies: a rename in the code must fail here, not pass by comparing a constant with itself.</summary>
    private static readonly (string Id, int Status, StatusCode? Grpc, string Title, string Type)[] Expected =
    [
        ("NotFound", 404, StatusCode.NotFound, "Not found", "urn:serving:problem:not-found"),
        ("MethodNotAllowed", 405, null, "Method not allowed", "urn:serving:problem:method-not-allowed"),
        ("PayloadTooLarge", 413, StatusCode.ResourceExhausted, "Payload too large", "urn:serving:problem:payload-too-large"),
        ("BadRequest", 400, null, "Bad request", "urn:serving:problem:bad-request"),
        ("RequestTimeout", 408, null, "Request timeout", "urn:serving:problem:request-timeout"),
        ("InvalidJson", 400, StatusCode.InvalidArgument, "Invalid JSON", "urn:serving:problem:invalid-json"),
        ("InvalidInput", 400, StatusCode.InvalidArgument, "Invalid input", "urn:serving:problem:invalid-input"),
        ("RunnerUnavailable", 503, StatusCode.Unavailable, "Runner unavailable", "urn:serving:problem:runner-unavailable"),
        ("Overloaded", 503, StatusCode.Unavailable, "Overloaded", "urn:serving:problem:overloaded"),
        ("RunnerTimeout", 504, StatusCode.DeadlineExceeded, "Runner timeout", "urn:serving:problem:runner-timeout"),
        ("RunnerFailed", 500, StatusCode.Internal, "Runner failed", "urn:serving:problem:runner-failed"),
        ("MessageTooLarge", 500, StatusCode.ResourceExhausted, "Message too large", "urn:serving:problem:message-too-large"),
        ("InternalError", 500, StatusCode.Internal, "Internal error", "urn:serving:problem:internal-error"),
        ("NotReady", 503, StatusCode.Unavailable, "Not ready", "urn:serving:problem:not-ready"),
        ("Stopping", 503, StatusCode.Unavailable, "Stopping", "urn:serving:problem:stopping"),
        ("HostFailing", 503, StatusCode.Unavailable, "Host failing", "urn:serving:problem:host-failing"),
    ];

    [Fact]
    public void The_table_is_pinned()
    {
        Assert.Equal(Expected, Problems.All.Select(p => (p.Id, p.Status, p.GrpcStatus, p.Title, p.Type)));
        // Every public static Problem field is in All.
        var fields = typeof(Problems).GetFields().Where(f => f.FieldType == typeof(Problem)).Select(f => (Problem)f.GetValue(null)!);
        Assert.Equal(fields.OrderBy(p => p.Id), Problems.All.OrderBy(p => p.Id));
    }

    [Fact]
    public void Docs_list_every_problem_with_its_status_and_type()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Cmdlets.sln")))
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found");
        var errors = File.ReadAllText(Path.Combine(root, "docs", "errors.md"));
        var protocol = File.ReadAllText(Path.Combine(root, "docs", "worker-protocol.md"));
        foreach (var p in Problems.All)
        {
            Assert.Contains($"| `{p.Id}` | {p.Status} |", errors);
            Assert.Contains($"`{p.Type}`", errors);
            Assert.Contains($"`{p.Id}`", protocol);
        }
    }

    private static DefaultHttpContext Context(string method = "POST")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Response.Body = new MemoryStream();
        context.TraceIdentifier = "0HTEST:00000001";
        context.Response.Headers[ApiHandler.WorkerHeader] = "api-3";
        return context;
    }

    private static JsonElement Body(HttpContext context) =>
        JsonDocument.Parse(((MemoryStream)context.Response.Body).ToArray()).RootElement;

    [Fact]
    public async Task WriteProblemAsync_writes_an_rfc9457_body_with_our_members()
    {
        var context = Context();
        await ApiResponses.WriteProblemAsync(context, Problems.RunnerUnavailable, "runner 'echo' has no live worker", TimeSpan.FromSeconds(1.2));

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("application/problem+json", context.Response.ContentType);
        Assert.Equal("2", context.Response.Headers.RetryAfter.ToString());
        var body = Body(context);
        Assert.Equal(["type", "title", "status", "detail", "errorId", "requestId", "worker"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal("urn:serving:problem:runner-unavailable", body.GetProperty("type").GetString());
        Assert.Equal("Runner unavailable", body.GetProperty("title").GetString());
        Assert.Equal(503, body.GetProperty("status").GetInt32());
        Assert.Equal("runner 'echo' has no live worker", body.GetProperty("detail").GetString());
        Assert.Equal("RunnerUnavailable", body.GetProperty("errorId").GetString());
        Assert.Equal("0HTEST:00000001", body.GetProperty("requestId").GetString());
        Assert.Equal("api-3", body.GetProperty("worker").GetString());
        Assert.Equal(context.Response.ContentLength, ((MemoryStream)context.Response.Body).Length);
    }

    [Fact]
    public async Task A_500_points_to_the_log_and_HEAD_gets_no_body()
    {
        var context = Context();
        await ApiResponses.WriteProblemAsync(context, Problems.InternalError, "the API worker failed", exception: new InvalidOperationException("secret"));
        Assert.Equal("the API worker failed; details are in the serving host's log under request id 0HTEST:00000001", Body(context).GetProperty("detail").GetString());
        Assert.False(context.Response.Headers.ContainsKey("Retry-After"));

        var head = Context("HEAD");
        await ApiResponses.WriteProblemAsync(head, Problems.NotFound, "no API has the route '/x'");
        Assert.Equal(404, head.Response.StatusCode);
        Assert.Equal("application/problem+json", head.Response.ContentType);
        Assert.Equal(0, ((MemoryStream)head.Response.Body).Length);
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(0.001, "1")]
    [InlineData(1, "1")]
    [InlineData(30.5, "31")]
    [InlineData(-3, "0")]
    public void Retry_after_is_whole_seconds_rounded_up(double seconds, string expected) =>
        Assert.Equal(expected, ApiResponses.RetryAfterSeconds(TimeSpan.FromSeconds(seconds)));
}
