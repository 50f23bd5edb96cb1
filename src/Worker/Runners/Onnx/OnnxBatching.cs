using System.Globalization;

namespace Serving.Worker.Runners.Onnx;

/// <summary>Stacking requests' tensors along the batch (first) axis, and splitting a batch's outputs back by rows.</summary>
internal static class OnnxBatching
{
    /// <summary>One tensor of every part's rows, in order; the parts agree on every axis after the first.</summary>
    public static OnnxTensor Stack(IReadOnlyList<OnnxTensor> parts)
    {
        if (parts.Count == 1)
            return parts[0];
        var first = parts[0];
        long rows = 0, length = 0;
        foreach (var part in parts)
        {
            rows += part.Shape[0];
            length += part.Data.LongLength;
        }
        var data = OnnxTensor.NewData(first.ElementType, length);
        long offset = 0;
        foreach (var part in parts)
        {
            Array.Copy(part.Data, 0, data, offset, part.Data.LongLength);
            offset += part.Data.LongLength;
        }
        var shape = (long[])first.Shape.Clone();
        shape[0] = rows;
        return new OnnxTensor(first.ElementType, shape, data);
    }

    /// <summary>The output of a stacked run cut into parts of <paramref name="rows"/> rows each.</summary>
    public static OnnxTensor[] Split(OnnxTensor output, IReadOnlyList<int> rows, string name)
    {
        long total = 0;
        foreach (var r in rows)
            total += r;
        if (output.Shape.Length == 0 || output.Shape[0] != total)
            throw new RunnerResultException(string.Create(CultureInfo.InvariantCulture,
                $"output '{name}' has shape [{string.Join(",", output.Shape)}], not {total} rows along its batch axis"));
        if (rows.Count == 1)
            return [output];
        var rowSize = output.RowSize;
        var parts = new OnnxTensor[rows.Count];
        long offset = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            var length = rows[i] * rowSize;
            var data = OnnxTensor.NewData(output.ElementType, length);
            Array.Copy(output.Data, offset, data, 0, length);
            offset += length;
            var shape = (long[])output.Shape.Clone();
            shape[0] = rows[i];
            parts[i] = new OnnxTensor(output.ElementType, shape, data);
        }
        return parts;
    }
}
