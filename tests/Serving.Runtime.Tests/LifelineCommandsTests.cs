using Xunit;

namespace Serving.Runtime.Tests;

public class LifelineCommandsTests
{
    [Theory]
    [InlineData(0, "stop 1")]
    [InlineData(200, "stop 1")]
    [InlineData(1000, "stop 1")]
    [InlineData(2100, "stop 3")]
    [InlineData(30000, "stop 30")]
    public void Stop_gives_whole_seconds_rounded_up_and_at_least_one(int milliseconds, string line) =>
        Assert.Equal(line, LifelineCommands.Stop(TimeSpan.FromMilliseconds(milliseconds)));
}
