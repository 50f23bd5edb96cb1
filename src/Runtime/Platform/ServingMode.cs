namespace Serving.Runtime.Platform;

/// <summary>Production (many processes) or development (one process).</summary>
public enum ServingMode { Production, Development }
