namespace Serving.Runtime.Supervision;

/// <summary>The life of one worker slot (a slot keeps its name across respawns).</summary>
public enum WorkerState { Starting, Running, Backoff, Exited, Failed, Stopping, Stopped }
