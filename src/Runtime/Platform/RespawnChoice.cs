namespace Serving.Runtime.Platform;

/// <summary>The -Respawn choice.</summary>
public enum RespawnChoice { Auto, Always, Never }
