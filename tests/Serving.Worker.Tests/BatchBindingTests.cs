using System.Text;
using Serving.Abstractions;
using Serving.Worker.Batching;
using Serving.Worker.Runners;
using Serving.Worker.Tests.Infrastructure;

namespace Serving.Worker.Tests;

/// <summary>Batchable [RunnerMethod]s: binding, the batch invoker's per-item results, the single-payload path.</summary>
public class BatchBindingTests
{
    private readonly BatchRunner _runner = new();
    private readonly IReadOnlyDictionary<string, BoundMethod> _methods;

    public BatchBindingTests() => _methods = MethodBinder.BindAll(_runner, "batcher");

    private static ReadOnlyMemory<byte> Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    private async Task<(ItemResult[] Results, int Calls)> Batch(string method, params string[] inputs)
    {
        var results = new ItemResult[inputs.Length];
        var calls = await _methods[method].InvokeBatch!(inputs.Select(Utf8).ToArray(), results, default);
        return (results, calls);
    }

    private async Task<string> Single(string method, string input) => Text(await _methods[method].Invoke(Utf8(input), default));

    [Theory]
    [InlineData("readonly")]
    [InlineData("ilist")]
    [InlineData("list")]
    [InlineData("array")]
    [InlineData("immutable")]
    public async Task Every_list_shape_binds_and_answers_in_order(string method)
    {
        var (results, calls) = await Batch(method, """{"features":[1,2]}""", """{"features":[5,6]}""", """{"features":[0]}""");
        Assert.Equal(1, calls);
        Assert.Equal([3], _runner.Calls);
        Assert.All(results, r => Assert.Equal(ItemStatus.Ok, r.Status));
        Assert.Equal("""{"name":"small","score":3}""", Text(results[0].Output));
        Assert.Equal("""{"name":"big","score":11}""", Text(results[1].Output));
        Assert.Equal("""{"name":"small","score":0}""", Text(results[2].Output));
    }

    [Fact]
    public void A_batchable_method_says_so_with_its_settings()
    {
        var method = _methods["ilist"];
        Assert.True(method.Batchable);
        Assert.Equal(8, method.MaxBatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(3), method.MaxLatency);
        Assert.Equal(typeof(Flower), method.InputType);
        Assert.Equal(typeof(Label), method.OutputType);
        Assert.Equal("batcher", method.RunnerName);
        Assert.True(method.SplitsInstances);

        var defaults = _methods["readonly"];
        Assert.Equal(64, defaults.MaxBatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(10), defaults.MaxLatency);

        var single = _methods["single"];
        Assert.False(single.Batchable);
        Assert.Null(single.InvokeBatch);
        Assert.Equal(1, single.MaxBatchSize);
        Assert.False(single.SplitsInstances);

        // Raw items are never split: their bodies are not JSON to the method.
        Assert.False(_methods["upper"].SplitsInstances);
        Assert.False(_methods["reverse"].SplitsInstances);
    }

    [Fact]
    public async Task Raw_items_are_taken_and_given_as_they_are()
    {
        var (texts, _) = await Batch("upper", "abc", "é");
        Assert.Equal(["ABC", "É"], texts.Select(r => Text(r.Output)));

        var results = new ItemResult[2];
        await _methods["reverse"].InvokeBatch!(new ReadOnlyMemory<byte>[] { new byte[] { 1, 2 }, new byte[] { 3 } }, results, default);
        Assert.Equal(new byte[] { 2, 1 }, results[0].Output.ToArray());
        Assert.Equal(new byte[] { 3 }, results[1].Output.ToArray());

        await _methods["memory"].InvokeBatch!(new ReadOnlyMemory<byte>[] { new byte[] { 1, 2 }, new byte[] { 3, 4, 5 } }, results, default);
        Assert.Equal(new byte[] { 2 }, results[0].Output.ToArray());
        Assert.Equal(new byte[] { 4, 5 }, results[1].Output.ToArray());
    }

    [Fact]
    public async Task An_input_that_does_not_decode_fails_alone_and_is_left_out_of_the_call()
    {
        var (results, calls) = await Batch("square", "3", "\"x\"", "4", "1e10");
        Assert.Equal(1, calls);
        Assert.Equal([2], _runner.Calls);
        Assert.Equal("9", Text(results[0].Output));
        Assert.Equal(ItemStatus.InvalidInput, results[1].Status);
        Assert.Equal("invalid input in $: expected an integer from -2147483648 to 2147483647, got a string", results[1].Message);
        Assert.Equal("16", Text(results[2].Output));
        Assert.Equal(ItemStatus.InvalidInput, results[3].Status);
        Assert.Contains("1e10", results[3].Message);
    }

    [Fact]
    public async Task No_call_when_no_input_decodes()
    {
        var (results, calls) = await Batch("square", "x", "[]");
        Assert.Equal(0, calls);
        Assert.Empty(_runner.Calls);
        Assert.Equal(ItemStatus.InvalidJson, results[0].Status);
        Assert.Equal(ItemStatus.InvalidInput, results[1].Status);
    }

    [Fact]
    public async Task An_output_that_cannot_be_encoded_fails_alone()
    {
        var (results, _) = await Batch("inverse", "2", "0", "4");
        Assert.Equal("0.5", Text(results[0].Output));
        Assert.Equal(ItemStatus.Failed, results[1].Status);
        Assert.Equal("runner 'batcher' method 'inverse' returned a result that cannot be written as JSON", results[1].Message);
        Assert.NotNull(results[1].Exception);
        Assert.Equal("0.25", Text(results[2].Output));
    }

    [Theory]
    [InlineData(1, "runner 'batcher' method 'wrong' returned 5 outputs for 4 inputs")]
    [InlineData(-1, "runner 'batcher' method 'wrong' returned 3 outputs for 4 inputs")]
    [InlineData(-4, "runner 'batcher' method 'wrong' returned 0 outputs for 4 inputs")]
    public async Task A_result_of_the_wrong_length_fails_every_item_of_the_call(int surplus, string message)
    {
        _runner.Surplus = surplus;
        var (results, calls) = await Batch("wrong", "1", "2", "3", "4");
        Assert.Equal(1, calls);
        Assert.All(results, r =>
        {
            Assert.Equal(ItemStatus.Failed, r.Status);
            Assert.Equal(message, r.Message);
            ClientText.AssertClean(r.Message!);
        });
    }

    [Fact]
    public async Task A_null_result_fails_every_item()
    {
        var (results, _) = await Batch("null", "1", "2");
        Assert.All(results, r => Assert.Equal("runner 'batcher' method 'null' returned null for 2 inputs", r.Message));
    }

    [Fact]
    public async Task A_batch_that_throws_is_isolated_so_only_the_bad_items_fail()
    {
        var inputs = Enumerable.Range(0, 16).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        inputs[5] = "-1";
        inputs[11] = "-2";
        var (results, calls) = await Batch("picky", inputs);

        Assert.Equal(_runner.Calls.Count, calls);
        // Halving, depth first: a part that fails is halved again, a part that succeeds is done.
        // [0..16) → [0..8) → [0..4) ok, [4..8) → [4..6) → 4 ok, 5 bad; [6..8) ok;
        //           [8..16) → [8..12) → [8..10) ok, [10..12) → 10 ok, 11 bad; [12..16) ok.
        Assert.Equal([16, 8, 4, 4, 2, 1, 1, 2, 8, 4, 2, 2, 1, 1, 4], _runner.Calls);
        for (var i = 0; i < 16; i++)
        {
            if (i is 5 or 11)
                continue;
            Assert.Equal(ItemStatus.Ok, results[i].Status);
            Assert.Equal(Math.Sqrt(i), double.Parse(Text(results[i].Output), System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.Equal(ItemStatus.InvalidInput, results[5].Status);
        Assert.Equal("invalid input in $: -1 is not a value this method takes", results[5].Message);
        Assert.Equal(ItemStatus.Failed, results[11].Status);
        Assert.Equal("runner 'batcher' method 'picky' failed", results[11].Message);
        Assert.IsType<InvalidOperationException>(results[11].Exception);
    }

    [Fact]
    public async Task A_cancelled_call_is_not_isolated()
    {
        using var cts = new CancellationTokenSource();
        var results = new ItemResult[3];
        var pending = _methods["wait"].InvokeBatch!(new[] { Utf8("1"), Utf8("2"), Utf8("3") }, results, cts.Token).AsTask();
        cts.Cancel();
        Assert.Equal(1, await pending);
        Assert.Equal([3], _runner.Calls);
        Assert.All(results, r => Assert.Equal(ItemStatus.Cancelled, r.Status));
    }

    [Fact]
    public async Task Invoke_is_a_batch_of_one()
    {
        Assert.Equal("""{"name":"big","score":12}""", await Single("readonly", """{"features":[12]}"""));
        Assert.Equal([1], _runner.Calls);
        Assert.Equal("ABC", await Single("upper", "abc"));

        _runner.Surplus = 1;
        var wrong = await Assert.ThrowsAsync<RunnerResultException>(() => Single("wrong", "1"));
        Assert.Equal("returned 2 outputs for 1 input", wrong.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Single("picky", "-2"));
        var bad = await Assert.ThrowsAsync<RunnerInputException>(() => Single("square", "\"x\""));
        Assert.StartsWith("invalid input in $:", bad.Message);
    }

    [Fact]
    public async Task Invoke_splits_an_instances_envelope_and_joins_the_results_in_order()
    {
        var answer = await Single("readonly", """{"instances":[{"features":[1]},{"features":[20]}, {"features":[3]}]}""");
        Assert.Equal("""[{"name":"small","score":1},{"name":"big","score":20},{"name":"small","score":3}]""", answer);
        Assert.Equal([3], _runner.Calls);
    }

    [Fact]
    public async Task Invoke_calls_an_envelope_in_batches_of_at_most_MaxBatchSize()
    {
        var body = "{\"instances\":[" + string.Join(',', Enumerable.Repeat("""{"features":[1]}""", 20)) + "]}";
        var answer = await Single("ilist", body);
        Assert.Equal([8, 8, 4], _runner.Calls);
        Assert.Equal(20, System.Text.Json.JsonDocument.Parse(answer).RootElement.GetArrayLength());
    }

    [Theory]
    [InlineData("""{"instances":[1,"x",3]}""", "invalid input in $.instances[1]: expected an integer from -2147483648 to 2147483647, got a string")]
    [InlineData("""{"instances":[]}""", "invalid input in $.instances: expected one instance or more, got an empty array")]
    public async Task Invoke_names_the_instance_at_fault(string body, string message)
    {
        var ex = await Assert.ThrowsAsync<RunnerInputException>(() => Single("square", body));
        Assert.Equal(message, ex.Message);
        Assert.Empty(_runner.Calls);
    }

    [Fact]
    public async Task Invoke_of_an_envelope_fails_on_the_first_bad_instance_the_method_finds()
    {
        var input = await Assert.ThrowsAsync<RunnerInputException>(() => Single("picky", """{"instances":[4,-2,-1]}"""));
        Assert.Equal("invalid input in $.instances[2]: -1 is not a value this method takes", input.Message);

        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => Single("picky", """{"instances":[4,-2,9]}"""));
        Assert.Equal("a negative value broke the batch", failed.Message);
    }

    [Fact]
    public async Task A_body_with_more_than_instances_is_one_item()
    {
        var ex = await Assert.ThrowsAsync<RunnerInputException>(() => Single("square", """{"instances":[1],"x":1}"""));
        Assert.StartsWith("invalid input in $: expected an integer", ex.Message);
        Assert.Empty(_runner.Calls);
    }

    [Theory]
    [InlineData(typeof(BatchOfBytesRunner), "unsupported input type Byte[]")]
    [InlineData(typeof(BatchOfOneRunner), "unsupported input type Int32")]
    [InlineData(typeof(BatchEnumerableRunner), "unsupported input type IEnumerable`1")]
    [InlineData(typeof(BatchReturningOneRunner), "unsupported output type Int32")]
    [InlineData(typeof(BatchReturningStringRunner), "unsupported output type String")]
    [InlineData(typeof(BatchVoidRunner), "a batchable [RunnerMethod] must return its outputs")]
    [InlineData(typeof(BatchTwoListsRunner), "takes (inputs) or (inputs, CancellationToken)")]
    [InlineData(typeof(BatchSizeZeroRunner), "MaxBatchSize must be between 1 and 4096; got 0")]
    [InlineData(typeof(BatchSizeHugeRunner), "MaxBatchSize must be between 1 and 4096; got 4097")]
    [InlineData(typeof(BatchLatencyNegativeRunner), "MaxLatencyMs must be between 0 and 60000; got -1")]
    public void Unsupported_batchable_methods_fail_binding_with_a_clear_message(Type runnerType, string expected)
    {
        var runner = (Runner)Activator.CreateInstance(runnerType)!;
        var ex = Assert.Throws<RunnerBindingException>(() => MethodBinder.BindAll(runner));
        Assert.Contains(expected, ex.Message);
        Assert.Contains(runnerType.Name, ex.Message);
    }

    [Fact]
    public void Exceptions_map_to_item_results_as_the_runner_protocol_maps_them_to_statuses()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        var input = ItemResults.FromException(new RunnerInputException("invalid input in $: no"), "r", "m", default);
        Assert.Equal((ItemStatus.InvalidInput, "invalid input in $: no"), (input.Status, input.Message));

        var cancel = ItemResults.FromException(new OperationCanceledException(), "r", "m", cancelled.Token);
        Assert.Equal(ItemStatus.Cancelled, cancel.Status);

        // Not the caller's cancellation: the method's own failure.
        var own = new OperationCanceledException();
        var ownCancel = ItemResults.FromException(own, "r", "m", default);
        Assert.Equal((ItemStatus.Failed, "runner 'r' method 'm' failed"), (ownCancel.Status, ownCancel.Message));
        Assert.Same(own, ownCancel.Exception);

        var inner = new FormatException();
        var result = ItemResults.FromException(new RunnerResultException("returned a result that cannot be written as JSON", inner), "r", "m", default);
        Assert.Equal((ItemStatus.Failed, "runner 'r' method 'm' returned a result that cannot be written as JSON"), (result.Status, result.Message));
        Assert.Same(inner, result.Exception);

        var boom = new InvalidOperationException("secret");
        var failed = ItemResults.FromException(boom, "r", "m", default);
        Assert.Equal((ItemStatus.Failed, "runner 'r' method 'm' failed"), (failed.Status, failed.Message));
        Assert.Same(boom, failed.Exception);
    }
}
