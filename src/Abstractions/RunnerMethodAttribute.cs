namespace Serving.Abstractions;

/// <summary>Marks a public instance method of a <see cref="Runner"/> as callable by APIs.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class RunnerMethodAttribute : Attribute
{
    /// <param name="name">The name APIs use for this method; the C# method name when omitted.</param>
    public RunnerMethodAttribute(string? name = null) => Name = name;

    /// <summary>The name APIs use for this method, or null for the C# method name.</summary>
    public string? Name { get; }
}
