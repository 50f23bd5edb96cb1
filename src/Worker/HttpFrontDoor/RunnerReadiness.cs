namespace Serving.Worker.HttpFrontDoor;

/// <summary>One runner's state as the readiness probe saw it.</summary>
internal readonly record struct RunnerReadiness(string Name, bool Ready, string Status);
