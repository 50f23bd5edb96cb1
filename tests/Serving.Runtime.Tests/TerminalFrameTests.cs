using Xunit;

namespace Serving.Runtime.Tests;

public class TerminalFrameTests
{
    private static readonly ScreenLine[] Lines = [new("titl", LineStyle.Title), new("12345", LineStyle.Error), new("plain")];

    [Fact]
    public void Draws_from_the_top_clears_each_short_line_and_the_rest_of_the_screen()
    {
        var frame = TerminalFrame.Compose(Lines, 5, color: false);
        // "12345" fills the width: erasing after it would erase its last character.
        Assert.Equal("\u001b[Htitl\u001b[K\r\n12345\r\nplain\u001b[J", frame);
    }

    [Fact]
    public void Without_color_there_is_no_graphic_rendition()
    {
        Assert.DoesNotMatch(@"\u001b\[[0-9;]*m", TerminalFrame.Compose(Lines, 80, color: false));
        Assert.Matches(@"\u001b\[31m12345\u001b\[0m", TerminalFrame.Compose(Lines, 80, color: true));
    }

    [Theory]
    [InlineData(null, "xterm", true)]
    [InlineData("", "xterm-256color", true)]
    [InlineData("1", "xterm", false)]
    [InlineData(null, "dumb", false)]
    public void Color_follows_no_color_and_term(string? noColor, string? term, bool allowed) =>
        Assert.Equal(allowed, TerminalFrame.ColorAllowed(noColor, term));

    [Fact]
    public void Leaving_shows_the_cursor_and_the_users_screen_again()
    {
        Assert.Contains("\u001b[?1049h", TerminalFrame.Enter);
        Assert.Contains("\u001b[?25l", TerminalFrame.Enter);
        Assert.Contains("\u001b[?1049l", TerminalFrame.Leave);
        Assert.Contains("\u001b[?25h", TerminalFrame.Leave);
    }
}
