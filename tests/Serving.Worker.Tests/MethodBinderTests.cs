using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Serving.Abstractions;
using Serving.Worker.Batching;
using Serving.Worker.Runners;
using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

public sealed record Point(int X, int Y);

/// <summary>Every supported method shape, bound in-process.</summary>
public sealed class SignatureRunner : Runner
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseUpper };
    public byte[]? LastBytes;

    public override JsonSerializerOptions JsonOptions => Options;

    [RunnerMethod] public byte[] SyncBytes(byte[] input) { LastBytes = input; return input; }
    [RunnerMethod] public ReadOnlyMemory<byte> SyncMemory(ReadOnlyMemory<byte> input, CancellationToken cancellationToken) => input[1..];
    [RunnerMethod] public string SyncText(string input, CancellationToken cancellationToken) => input + "!";
    [RunnerMethod] public Task<string> TaskText(string input) => Task.FromResult(input.ToUpperInvariant());
    [RunnerMethod] public async Task<string> TaskTextAsync(string input, CancellationToken cancellationToken) { await Task.Delay(1, cancellationToken); return input.ToLowerInvariant(); }
    [RunnerMethod] public ValueTask<Point> ValueTaskJson(Point input) => ValueTask.FromResult(new Point(input.Y, input.X));
    [RunnerMethod] public async ValueTask<Point> ValueTaskJsonAsync(Point input, CancellationToken cancellationToken) { await Task.Yield(); return input with { X = input.X * 10 }; }
    [RunnerMethod] public int Square(int input) => input * input;
    [RunnerMethod] public Point? NullJson(string input) => null;
    [RunnerMethod] public string? NullText(string input) => null;
    [RunnerMethod] public byte[]? NullBytes(byte[] input) => null;
    [RunnerMethod("renamed")] public string Other(string input) => "renamed:" + input;
    [RunnerMethod] public async Task<string> WaitForCancel(string input, CancellationToken cancellationToken) { await Task.Delay(Timeout.Infinite, cancellationToken); return ""; }
    [RunnerMethod] public string Throws(string input) => throw new InvalidOperationException("boom");
    [RunnerMethod] public async Task<string> ThrowsAsync(string input) { await Task.Yield(); throw new RunnerInputException("bad: " + input); }
    public string NotAMethod(string input) => input;
}

public class BaseRunner : Runner
{
    [RunnerMethod("greet")] public virtual string Greet(string name) => "base " + name;
}

public sealed class DerivedRunner : BaseRunner
{
    public override string Greet(string name) => "derived " + name;
}

public sealed class VoidRunner : Runner { [RunnerMethod] public void M(string s) { } }
public sealed class PlainTaskRunner : Runner { [RunnerMethod] public Task M(string s) => Task.CompletedTask; }
public sealed class PlainValueTaskRunner : Runner { [RunnerMethod] public ValueTask M(string s) => ValueTask.CompletedTask; }
public sealed class TwoInputsRunner : Runner { [RunnerMethod] public string M(string a, string b) => a + b; }
public sealed class NoInputRunner : Runner { [RunnerMethod] public string M() => ""; }
public sealed class PrivateRunner : Runner { [RunnerMethod] private string M(string s) => s; public string Use() => M(""); }
public sealed class StaticRunner : Runner { [RunnerMethod] public static string M(string s) => s; }
public sealed class GenericRunner : Runner { [RunnerMethod] public T M<T>(T s) => s; }
public sealed class RefRunner : Runner { [RunnerMethod] public string M(ref string s) => s; }
public sealed class SpanRunner : Runner { [RunnerMethod] public string M(ReadOnlySpan<byte> s) => ""; }
public sealed class TokenOnlyRunner : Runner { [RunnerMethod] public string M(CancellationToken ct) => ""; }
public sealed class DuplicateRunner : Runner
{
    [RunnerMethod("same")] public string A(string s) => s;
    [RunnerMethod("SAME")] public string B(string s) => s;
}
public sealed class MissingMetadataRunner : Runner
{
    private static readonly JsonSerializerOptions Empty = new() { TypeInfoResolver = JsonTypeInfoResolver.Combine() };
    public override JsonSerializerOptions JsonOptions => Empty;
    [RunnerMethod] public Point M(Point p) => p;
}

public class MethodBinderTests
{
    private static readonly SignatureRunner Runner = new();
    private static readonly Lazy<IReadOnlyDictionary<string, BoundMethod>> Methods = new(() => MethodBinder.BindAll(Runner));

    private static async Task<string> Call(string method, string input, CancellationToken cancellationToken = default)
    {
        var result = await Methods.Value[method].Invoke(Encoding.UTF8.GetBytes(input), cancellationToken);
        return Encoding.UTF8.GetString(result.Span);
    }

    [Fact]
    public void Discovers_only_marked_methods_with_their_names()
    {
        Assert.Equal(15, Methods.Value.Count);
        Assert.True(Methods.Value.ContainsKey("renamed"));
        Assert.False(Methods.Value.ContainsKey("Other"));
        Assert.False(Methods.Value.ContainsKey("NotAMethod"));
        Assert.True(Methods.Value.ContainsKey("synctext")); // case-insensitive
    }

    [Fact]
    public async Task Sync_bytes_get_the_whole_input_array_without_a_copy()
    {
        var input = new byte[] { 1, 2, 3 };
        var result = await Methods.Value["SyncBytes"].Invoke(input, default);
        Assert.Same(input, Runner.LastBytes);
        Assert.Equal(input, result.ToArray());

        // A slice is copied into an array of its own.
        var slice = new ReadOnlyMemory<byte>(new byte[] { 9, 4, 5, 9 }, 1, 2);
        result = await Methods.Value["SyncBytes"].Invoke(slice, default);
        Assert.Equal(new byte[] { 4, 5 }, result.ToArray());
        Assert.Equal(2, Runner.LastBytes!.Length);
    }

    [Fact]
    public async Task Memory_in_and_out_with_token()
    {
        var result = await Methods.Value["SyncMemory"].Invoke(new byte[] { 7, 8, 9 }, default);
        Assert.Equal(new byte[] { 8, 9 }, result.ToArray());
    }

    [Theory]
    [InlineData("SyncText", "héllo", "héllo!")]
    [InlineData("TaskText", "abc", "ABC")]
    [InlineData("TaskTextAsync", "ABC", "abc")]
    [InlineData("renamed", "x", "renamed:x")]
    [InlineData("Square", "12", "144")]
    public async Task Text_and_json_shapes(string method, string input, string expected) =>
        Assert.Equal(expected, await Call(method, input));

    [Fact]
    public async Task Json_uses_the_runners_JsonOptions()
    {
        Assert.Equal("{\"X\":2,\"Y\":1}", await Call("ValueTaskJson", "{\"X\":1,\"Y\":2}"));
        Assert.Equal("{\"X\":30,\"Y\":4}", await Call("ValueTaskJsonAsync", "{\"X\":3,\"Y\":4}"));
    }

    [Fact]
    public async Task Null_results_encode_as_empty_or_json_null()
    {
        Assert.Equal("null", await Call("NullJson", "x"));
        Assert.Equal("", await Call("NullText", "x"));
        var bytes = await Methods.Value["NullBytes"].Invoke(new byte[] { 1 }, default);
        Assert.True(bytes.IsEmpty);
    }

    [Theory]
    [InlineData("{\"X\":1,")]
    [InlineData("not json")]
    [InlineData("")]
    public async Task Input_that_is_not_json_is_a_syntax_error_not_an_input_of_the_wrong_shape(string input)
    {
        var ex = await Assert.ThrowsAsync<RunnerJsonSyntaxException>(() => Call("ValueTaskJson", input));
        Assert.Matches("^(is empty|is not valid JSON)", ex.Message);
        ClientText.AssertClean(ex.Message);
        Assert.Equal(ItemStatus.InvalidJson, ItemResults.FromException(ex, "r", "m", default).Status);
    }

    [Fact]
    public void A_json_api_over_a_raw_method_is_checked_by_the_gate_the_front_doors_and_runner_use()
    {
        JsonInputGate.Check("{\"a\":[1,2]}"u8);
        var ex = Assert.Throws<RunnerJsonSyntaxException>(() => JsonInputGate.Check("{\"a\":"u8));
        Assert.StartsWith("is not valid JSON (syntax error in line 1", ex.Message);
        Assert.Equal("nests deeper than 256 levels", JsonInputGate.Problem(new System.Buffers.ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(new string('[', 257) + new string(']', 257)))));
        Assert.Null(JsonInputGate.Problem(new System.Buffers.ReadOnlySequence<byte>("[1]"u8.ToArray())));
    }

    [Fact]
    public async Task Exceptions_propagate_sync_and_async()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => Call("Throws", "x"));
        var ex = await Assert.ThrowsAsync<RunnerInputException>(() => Call("ThrowsAsync", "x"));
        Assert.Equal("bad: x", ex.Message);
    }

    [Fact]
    public async Task Cancellation_reaches_the_method()
    {
        using var cts = new CancellationTokenSource();
        var pending = Call("WaitForCancel", "x", cts.Token);
        Assert.False(pending.IsCompleted);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
    }

    [Fact]
    public async Task Overridden_methods_bind_once_to_the_override()
    {
        var methods = MethodBinder.BindAll(new DerivedRunner());
        Assert.Single(methods);
        var result = await methods["greet"].Invoke(Encoding.UTF8.GetBytes("ann"), default);
        Assert.Equal("derived ann", Encoding.UTF8.GetString(result.Span));
    }

    [Theory]
    [InlineData(typeof(VoidRunner), "must return a value")]
    [InlineData(typeof(PlainTaskRunner), "must return a value")]
    [InlineData(typeof(PlainValueTaskRunner), "must return a value")]
    [InlineData(typeof(TwoInputsRunner), "takes (input) or (input, CancellationToken)")]
    [InlineData(typeof(NoInputRunner), "takes (input) or (input, CancellationToken)")]
    [InlineData(typeof(PrivateRunner), "public instance method")]
    [InlineData(typeof(StaticRunner), "public instance method")]
    [InlineData(typeof(GenericRunner), "cannot be generic")]
    [InlineData(typeof(RefRunner), "unsupported input type")]
    [InlineData(typeof(SpanRunner), "unsupported input type")]
    [InlineData(typeof(TokenOnlyRunner), "unsupported input type")]
    [InlineData(typeof(DuplicateRunner), "two [RunnerMethod] methods are named")]
    [InlineData(typeof(MissingMetadataRunner), "cannot (de)serialise")]
    public void Unsupported_methods_fail_binding_with_a_clear_message(Type runnerType, string expected)
    {
        var runner = (Runner)Activator.CreateInstance(runnerType)!;
        var ex = Assert.Throws<RunnerBindingException>(() => MethodBinder.BindAll(runner));
        Assert.Contains(expected, ex.Message);
        Assert.Contains(runnerType.Name, ex.Message);
    }
}
