using Xunit;
using System.Text;

namespace Serving.Runtime.Tests;

/// <summary>
/// Invoke-ServingApi's pure parts: serving.v1 CallRequest / CallReply framed by hand (checked against bytes a protobuf
/// encoder writes for the same messages), and the host's errors read into an <see cref="ApiProblem"/>.
/// </summary>
public class ApiCallingTests
{
    [Fact]
    public void A_call_request_is_one_uncompressed_frame_of_api_and_the_input_field_of_its_kind()
    {
        var frame = GrpcCallMessages.EncodeCallRequest("/echo", ApiPayload.Json("{}"));
        // protoc: api (1, string) "/echo", json (2, bytes) "{}".
        byte[] message = [0x0A, 5, (byte)'/', (byte)'e', (byte)'c', (byte)'h', (byte)'o', 0x12, 2, (byte)'{', (byte)'}'];
        Assert.Equal([0, 0, 0, 0, (byte)message.Length, .. message], frame);

        Assert.Equal(0x1A, GrpcCallMessages.EncodeCallRequest("t", ApiPayload.FromText("hi"))[8]);
        Assert.Equal(0x22, GrpcCallMessages.EncodeCallRequest("t", ApiPayload.FromBytes([1, 2]))[8]);
        // No input: only the api field (the proto's oneof left empty).
        Assert.Equal(new byte[] { 0, 0, 0, 0, 3, 0x0A, 1, (byte)'t' }, GrpcCallMessages.EncodeCallRequest("t", ApiPayload.Empty));
    }

    [Fact]
    public void Lengths_over_127_bytes_are_varints()
    {
        var json = "\"" + new string('x', 300) + "\"";
        var frame = GrpcCallMessages.EncodeCallRequest("a", ApiPayload.Json(json));
        // 302 = 0b10_0101110: 0xAE 0x02.
        Assert.Equal(new byte[] { 0x12, 0xAE, 0x02 }, frame[8..11]);
        Assert.Equal(frame.Length - 5, (frame[1] << 24) | (frame[2] << 16) | (frame[3] << 8) | frame[4]);
    }

    [Theory]
    [InlineData(0x0A, PayloadKind.Json)]
    [InlineData(0x12, PayloadKind.Text)]
    [InlineData(0x1A, PayloadKind.Bytes)]
    public void A_reply_gives_the_output_field_it_set(byte tag, PayloadKind kind)
    {
        var reply = GrpcCallMessages.Frame([tag, 3, (byte)'"', (byte)'a', (byte)'"']);
        var output = GrpcCallMessages.DecodeCallReply(reply);
        Assert.Equal(kind, output.Kind);
        Assert.Equal("\"a\"", output.Text);
    }

    [Fact]
    public void A_reply_skips_unknown_fields_and_an_empty_one_is_empty_bytes()
    {
        // field 9 varint 300, field 10 fixed64, field 11 fixed32, then json.
        byte[] message = [0x48, 0xAC, 0x02, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5D, 1, 2, 3, 4, 0x0A, 1, (byte)'1'];
        var output = GrpcCallMessages.DecodeCallReply(GrpcCallMessages.Frame(message));
        Assert.Equal(PayloadKind.Json, output.Kind);
        Assert.Equal("1", output.Text);

        var empty = GrpcCallMessages.DecodeCallReply(GrpcCallMessages.Frame([]));
        Assert.Equal(PayloadKind.Bytes, empty.Kind);
        Assert.Empty(empty.Bytes);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0 })]                      // shorter than a prefix
    [InlineData(new byte[] { 1, 0, 0, 0, 0 })]                // compressed
    [InlineData(new byte[] { 0, 0, 0, 0, 5, 0x0A, 1 })]       // the frame says more than came
    [InlineData(new byte[] { 0, 0, 0, 0, 3, 0x0A, 9, 1 })]    // a field runs past the message
    [InlineData(new byte[] { 0, 0, 0, 0, 1, 0x0B })]          // wire type 3 (groups)
    public void A_malformed_reply_is_a_format_error(byte[] body) =>
        Assert.Throws<FormatException>(() => GrpcCallMessages.DecodeCallReply(body));

    [Fact]
    public void A_problem_body_gives_its_error_id_detail_and_request_id()
    {
        var body = Encoding.UTF8.GetBytes("""{"type":"urn:serving:problem:invalid-json","title":"Invalid JSON","status":400,"detail":"the body is not one JSON value","errorId":"InvalidJson","requestId":"0HN:01","worker":"api-2"}""");
        var problem = ApiProblem.FromHttp("/classify", 400, "Bad Request", "application/problem+json", body, "0HN:01");

        Assert.Equal("InvalidJson", problem.ErrorId);
        Assert.Equal("0HN:01", problem.RequestId);
        Assert.Equal("api-2", problem.Worker);
        Assert.Equal("/classify: the body is not one JSON value (InvalidJson, HTTP 400, request id 0HN:01)", problem.Message);
        var error = problem.ToException();
        Assert.Equal("InvalidJson", error.ErrorId);
        Assert.Equal(ServingErrorKind.InvalidArgument, error.Kind);
        Assert.Same(problem, error.Target);
    }

    [Fact]
    public void An_error_without_a_problem_body_names_the_status_and_the_body_s_first_line()
    {
        var problem = ApiProblem.FromHttp("/x", 502, "Bad Gateway", "text/html", Encoding.UTF8.GetBytes("\n<h1>proxy down</h1>\nmore"), null);
        Assert.Equal(ErrorIds.ApiCallFailed, problem.ErrorId);
        Assert.Equal("/x: <h1>proxy down</h1> (ApiCallFailed, HTTP 502)", problem.Message);
        Assert.Equal(ServingErrorKind.InvalidOperation, problem.Kind);
        Assert.Equal(ServingErrorKind.ResourceUnavailable, ApiProblem.FromHttp("/x", 503, null, null, [], null).Kind);
        Assert.Equal(ServingErrorKind.ObjectNotFound, ApiProblem.FromHttp("/x", 404, null, null, [], null).Kind);
    }

    [Fact]
    public void A_grpc_status_gives_the_trailers_ids_and_the_unescaped_message()
    {
        var problem = ApiProblem.FromGrpc("/classify", 3, "the input is not valid JSON%3A line 1", "InvalidJson", "0HN:7", "api-1");
        Assert.Equal("INVALID_ARGUMENT", problem.GrpcStatus);
        Assert.Equal("InvalidJson", problem.ErrorId);
        Assert.Equal("/classify: the input is not valid JSON: line 1 (InvalidJson, INVALID_ARGUMENT, request id 0HN:7)", problem.Message);
        Assert.Equal(ServingErrorKind.InvalidArgument, problem.Kind);

        // The framework's own statuses carry no trailers of ours.
        var bare = ApiProblem.FromGrpc("/x", 8, null, null, null, null);
        Assert.Equal(ErrorIds.ApiCallFailed, bare.ErrorId);
        Assert.Equal("/x: RESOURCE_EXHAUSTED (ApiCallFailed, RESOURCE_EXHAUSTED)", bare.Message);
        Assert.Equal(ServingErrorKind.ResourceUnavailable, bare.Kind);
    }

    [Theory]
    [InlineData("application/json", PayloadKind.Json)]
    [InlineData("application/problem+json", PayloadKind.Json)]
    [InlineData("text/plain", PayloadKind.Text)]
    [InlineData("application/octet-stream", PayloadKind.Bytes)]
    [InlineData(null, PayloadKind.Bytes)]
    public void A_content_type_names_its_kind(string? mediaType, PayloadKind kind) => Assert.Equal(kind, ApiPayload.KindOf(mediaType));
}
