namespace Serving.Runtime.Watching;

/// <summary>How a screen line is drawn when color is on; with NO_COLOR every line is plain.</summary>
public enum LineStyle { Plain, Title, Header, Warning, Error, Dim }
