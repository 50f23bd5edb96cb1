namespace Serving.Runtime.Platform;

/// <summary>The -Transport choice.</summary>
public enum TransportChoice { Auto, Uds, Tcp }
