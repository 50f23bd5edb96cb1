using System.Text;

namespace Serving.Runtime.Watching;

/// <summary>
/// The escape sequences (VT100/xterm, which every terminal pwsh runs in understands) that draw the
/// watch screen in place: the alternate screen buffer and a hidden cursor while watching, each
/// refresh written from the top with every line cleared to its end and the rest of the screen
/// cleared below, so a shorter frame leaves nothing of the last one. Color only when allowed (NO_COLOR).
/// </summary>
public static class TerminalFrame
{
    /// <summary>Alternate screen on, cursor hidden, screen cleared.</summary>
    public const string Enter = "\u001b[?1049h\u001b[?25l\u001b[H\u001b[2J";

    /// <summary>Attributes reset, cursor shown, the user's screen back as it was.</summary>
    public const string Leave = "\u001b[0m\u001b[?25h\u001b[?1049l";

    /// <summary>One refresh, to be written in one piece (no flicker); lines already fit <paramref name="width"/>.</summary>
    public static string Compose(IReadOnlyList<ScreenLine> lines, int width, bool color)
    {
        var frame = new StringBuilder("\u001b[H");
        for (var i = 0; i < lines.Count; i++)
        {
            var text = lines[i].Text;
            var sgr = color ? Sgr(lines[i].Style) : null;
            if (sgr is not null) frame.Append(sgr);
            frame.Append(text);
            if (sgr is not null) frame.Append("\u001b[0m");
            // A line that fills the width leaves the cursor in the last column, where "erase to end of
            // line" would erase its last character: only shorter lines are cleared.
            if (text.Length < width) frame.Append("\u001b[K");
            if (i < lines.Count - 1) frame.Append("\r\n");
        }
        frame.Append("\u001b[J");
        return frame.ToString();
    }

    /// <summary>Whether color is allowed: not when NO_COLOR is set to anything (no-color.org) or TERM is dumb.</summary>
    public static bool ColorAllowed(string? noColor, string? term) =>
        string.IsNullOrEmpty(noColor) && !string.Equals(term, "dumb", StringComparison.Ordinal);

    private static string? Sgr(LineStyle style) => style switch
    {
        LineStyle.Title => "\u001b[1m",
        LineStyle.Header => "\u001b[7m",
        LineStyle.Warning => "\u001b[33m",
        LineStyle.Error => "\u001b[31m",
        LineStyle.Dim => "\u001b[2m",
        _ => null,
    };
}
