namespace Serving.Runtime.Watching;

/// <summary>One line of the watch screen: plain text (no escape sequences) that fits the width, and its style.</summary>
public readonly record struct ScreenLine(string Text, LineStyle Style = LineStyle.Plain);
