namespace Serving.Runtime.Platform;

/// <summary>The operating system family, as the rules of the seed distinguish them.</summary>
public enum OSKind { Unknown, Linux, Windows, MacOS, FreeBSD }
