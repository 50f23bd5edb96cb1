namespace Serving.Runtime.Watching;

/// <summary>A worker process's CPU % since the last refresh (null on the first) and resident memory.</summary>
public readonly record struct ProcessUsage(double? CpuPercent, long ResidentBytes);
