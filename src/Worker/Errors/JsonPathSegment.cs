using System.Globalization;

namespace Serving.Worker.Errors;

/// <summary>One step of a JSON path: a member name, or an array index when <see cref="Name"/> is null.</summary>
internal readonly record struct JsonPathSegment(string? Name, int Index)
{
    /// <summary>
    /// The steps of a System.Text.Json path (<c>$</c>, <c>$.a</c>, <c>$['a.b']</c>, <c>$.a[0][1]</c>);
    /// null when it is not one.
    /// </summary>
    public static List<JsonPathSegment>? Parse(string path)
    {
        if (path.Length == 0 || path[0] != '$')
            return null;
        var segments = new List<JsonPathSegment>();
        var i = 1;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                if (end < 0)
                    end = path.Length;
                segments.Add(new JsonPathSegment(path[(i + 1)..end], 0));
                i = end;
            }
            else if (path[i] == '[' && i + 1 < path.Length && path[i + 1] == '\'')
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0)
                    return null;
                segments.Add(new JsonPathSegment(path[(i + 2)..end], 0));
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i + 1);
                if (end < 0 || !int.TryParse(path.AsSpan(i + 1, end - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                    return null;
                segments.Add(new JsonPathSegment(null, index));
                i = end + 1;
            }
            else
            {
                return null;
            }
        }
        return segments;
    }
}
