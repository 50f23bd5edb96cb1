using Xunit;

namespace Serving.Runtime.Tests;

public sealed class LogRingTests
{
    private static WorkerLogEntry Line(int n) => new() { Message = "line " + n };

    [Fact]
    public void Reading_takes_nothing_and_gives_the_lines_in_arrival_order()
    {
        var ring = new LogRing(10);
        for (var i = 1; i <= 3; i++) ring.Add(Line(i));
        Assert.Equal(new[] { "line 1", "line 2", "line 3" }, ring.Read(0, out var last).Select(e => e.Message));
        Assert.Equal(3, last);
        Assert.Equal(3, ring.Read(0, out _).Length);
    }

    [Fact]
    public void Past_its_capacity_the_oldest_lines_go()
    {
        var ring = new LogRing(3);
        for (var i = 1; i <= 7; i++) ring.Add(Line(i));
        Assert.Equal(new[] { "line 5", "line 6", "line 7" }, ring.Read(0, out var last).Select(e => e.Message));
        Assert.Equal(7, last);
        // A reader that saw up to line 2 missed lines 3 and 4: it gets what is kept, and can count what it missed
        // (Get-ServingLog -Follow warns with that count).
        var kept = ring.Read(2, out var newest);
        Assert.Equal(new[] { "line 5", "line 6", "line 7" }, kept.Select(e => e.Message));
        Assert.Equal(2, newest - 2 - kept.Length);
    }

    [Fact]
    public void A_follower_gets_only_what_came_after_the_last_line_it_saw()
    {
        var ring = new LogRing(100);
        ring.Add(Line(1));
        ring.Read(0, out var seen);
        Assert.Empty(ring.Read(seen, out var again));
        Assert.Equal(seen, again);
        ring.Add(Line(2));
        ring.Add(Line(3));
        Assert.Equal(new[] { "line 2", "line 3" }, ring.Read(seen, out seen).Select(e => e.Message));
        Assert.Equal(3, seen);
    }
}
