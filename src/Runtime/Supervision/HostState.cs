namespace Serving.Runtime.Supervision;

/// <summary>The life of a host, as Get-ServingHost shows it.</summary>
public enum HostState { Starting, Running, Degraded, Stopping, Stopped, Failed }
