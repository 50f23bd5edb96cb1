using System.Buffers;
using System.Text;
using Serving.Worker.Batching;

namespace Serving.Worker.Tests;

public class BatchingInstancesEnvelopeTests
{
    private static ReadOnlyMemory<byte> Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string[] Split(string body)
    {
        Assert.True(InstancesEnvelope.TrySplit(Utf8(body), out var instances, out var invalid), body);
        Assert.Null(invalid);
        return [.. instances.Select(i => Encoding.UTF8.GetString(i.Span))];
    }

    [Fact]
    public void Elements_are_the_original_bytes_in_order()
    {
        Assert.Equal(["[1,2]", "{\"features\" : [3, 4]}", "\"x\\u0041\"", "7e1", "null", "true", "[]"],
            Split("""  { "instances" : [ [1,2], {"features" : [3, 4]}, "x\u0041" , 7e1,null,true,[] ] }  """));
    }

    [Fact]
    public void Elements_are_slices_of_the_body_not_copies()
    {
        var body = Utf8("""{"instances":[[1],[2]]}""");
        Assert.True(InstancesEnvelope.TrySplit(body, out var instances, out _));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(body, out var whole));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(instances[1], out var slice));
        Assert.Same(whole.Array, slice.Array);
        Assert.Equal(18, slice.Offset);
    }

    [Fact]
    public void An_escaped_member_name_is_still_instances()
    {
        Assert.Equal(["1"], Split("""{"instanc\u0065s":[1]}"""));
    }

    [Theory]
    [InlineData("""{"features":[1,2,3,4]}""")]
    [InlineData("""{"instances":[[1]],"features":[1]}""")]
    [InlineData("""{"features":[1],"instances":[[1]]}""")]
    [InlineData("""{"instances":[[1]],"instances":[[2]]}""")]
    [InlineData("""{"Instances":[[1]]}""")]
    [InlineData("""{"instances":7}""")]
    [InlineData("""{"instances":{"a":1}}""")]
    [InlineData("""{}""")]
    [InlineData("""[{"instances":[1]}]""")]
    [InlineData("""  "instances" """)]
    [InlineData("")]
    [InlineData("""{"instances":[1,2""")]
    public void Anything_else_is_one_item(string body)
    {
        Assert.False(InstancesEnvelope.TrySplit(Utf8(body), out var instances, out var invalid));
        Assert.Empty(instances);
        Assert.Null(invalid);
    }

    [Fact]
    public void An_empty_envelope_is_invalid_input()
    {
        Assert.True(InstancesEnvelope.TrySplit(Utf8("""{"instances":[ ]}"""), out var instances, out var invalid));
        Assert.Empty(instances);
        Assert.Equal("invalid input in $.instances: expected one instance or more, got an empty array", invalid);
    }

    [Fact]
    public void Too_many_instances_are_invalid_input_and_counted()
    {
        var body = "{\"instances\":[" + string.Join(',', Enumerable.Repeat("[5.1,3.5]", InstancesEnvelope.MaxInstances + 2)) + "]}";
        Assert.True(InstancesEnvelope.TrySplit(Utf8(body), out _, out var invalid));
        Assert.Equal("invalid input in $.instances: expected 10000 instances or fewer per request, got 10002", invalid);

        var limit = "{\"instances\":[" + string.Join(',', Enumerable.Repeat("[5.1,3.5]", InstancesEnvelope.MaxInstances)) + "]}";
        Assert.True(InstancesEnvelope.TrySplit(Utf8(limit), out var instances, out invalid));
        Assert.Null(invalid);
        Assert.Equal(InstancesEnvelope.MaxInstances, instances.Length);

        Assert.True(InstancesEnvelope.TrySplit(Utf8("""{"instances":[1,2,3]}"""), out _, out invalid, maxInstances: 2));
        Assert.Equal("invalid input in $.instances: expected 2 instances or fewer per request, got 3", invalid);
    }

    [Theory]
    [InlineData("invalid input in $: expected an object, got a string", "invalid input in $.instances[3]: expected an object, got a string")]
    [InlineData("invalid input in $.features[0]: expected a number, got 1e309 (out of range)", "invalid input in $.instances[3].features[0]: expected a number, got 1e309 (out of range)")]
    [InlineData("invalid input in $[2]: expected a number, got true", "invalid input in $.instances[3][2]: expected a number, got true")]
    [InlineData("invalid input in $['a.b']: no", "invalid input in $.instances[3]['a.b']: no")]
    [InlineData("invalid input in $", "invalid input in $.instances[3]")]
    [InlineData("invalid input: the input is empty; expected a number", "invalid input in $.instances[3]: the input is empty; expected a number")]
    [InlineData("bad input: x", "invalid input in $.instances[3]: bad input: x")]
    [InlineData("invalid input in $x", "invalid input in $.instances[3]: invalid input in $x")]
    public void An_items_message_is_rewritten_to_name_its_instance(string message, string expected)
    {
        Assert.Equal(expected, InstancesEnvelope.AtInstance(message, 3));
    }

    [Fact]
    public void Join_writes_the_outputs_as_one_array_in_order()
    {
        ReadOnlyMemory<byte>[] outputs = [Utf8("""{"label":"a"}"""), Utf8("2"), Utf8("null")];
        Assert.Equal("""[{"label":"a"},2,null]""", Encoding.UTF8.GetString(InstancesEnvelope.Join(outputs)));
        Assert.Equal("[7]", Encoding.UTF8.GetString(InstancesEnvelope.Join([Utf8("7")])));
        Assert.Equal("[]", Encoding.UTF8.GetString(InstancesEnvelope.Join([])));

        var writer = new ArrayBufferWriter<byte>();
        InstancesEnvelope.Join(outputs, writer);
        Assert.Equal("""[{"label":"a"},2,null]""", Encoding.UTF8.GetString(writer.WrittenSpan));
        Assert.Equal(writer.WrittenCount, InstancesEnvelope.JoinedLength(outputs));
    }
}
