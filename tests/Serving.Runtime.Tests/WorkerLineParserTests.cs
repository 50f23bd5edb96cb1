using Xunit;

namespace Serving.Runtime.Tests;

/// <summary>A worker's line read into an entry: its level from the text prefix or the JSON line, continuation lines, lines without a prefix.</summary>
public sealed class WorkerLineParserTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static WorkerLogEntry Parse(string line, bool isError = false, LogLevel? previous = null) =>
        WorkerLineParser.Parse(line, isError, previous, "h", "api-1", 42, Now);

    [Theory]
    [InlineData("trce: a", LogLevel.Trace)]
    [InlineData("dbug: a", LogLevel.Debug)]
    [InlineData("info: a", LogLevel.Information)]
    [InlineData("warn: a", LogLevel.Warning)]
    [InlineData("fail: a", LogLevel.Error)]
    [InlineData("crit: a", LogLevel.Critical)]
    [InlineData("error: a", LogLevel.Error)]
    public void A_text_prefix_is_the_level_and_is_not_part_of_the_message(string line, LogLevel level)
    {
        var entry = Parse(line, isError: level >= LogLevel.Warning);
        Assert.Equal(level, entry.Level);
        Assert.Equal("a", entry.Message);
        Assert.Equal(Now, entry.Time);
        Assert.Equal(("api-1", 42, "h"), (entry.Worker, entry.Pid, entry.Host));
    }

    [Fact]
    public void A_line_without_a_prefix_is_an_error_on_stderr_and_information_on_stdout()
    {
        Assert.Equal(LogLevel.Error, Parse("Unhandled exception. boom", isError: true).Level);
        Assert.Equal(LogLevel.Information, Parse("hello from a runner's Console.WriteLine").Level);
        Assert.Equal("stderr", Parse("x", isError: true).Stream);
    }

    [Fact]
    public void A_line_starting_with_whitespace_continues_the_line_above_and_has_its_level()
    {
        var entry = Parse("       at Serving.Fixture.Fail()", isError: true, previous: LogLevel.Warning);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Equal("       at Serving.Fixture.Fail()", entry.Message);
        // Nothing above it: a line of its own.
        Assert.Equal(LogLevel.Information, Parse("  indented").Level);
    }

    [Fact]
    public void A_json_line_gives_its_level_time_event_message_exception_and_fields()
    {
        var line = LogLineContract.Json(new DateTimeOffset(2026, 5, 6, 7, 8, 9, 123, TimeSpan.FromHours(2)), 4, "api-1", "Serving.Worker.HttpFrontDoor",
            "RunnerFailed request r-1: boom", "System.InvalidOperationException: boom\n   at X.Y()",
            w => { w.WriteString("RequestId", "r-1"); w.WriteNumber("Status", 500); });
        var entry = Parse(line, isError: true);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Equal(new DateTimeOffset(2026, 5, 6, 7, 8, 9, 123, TimeSpan.FromHours(2)), entry.Time);
        Assert.Equal("Serving.Worker.HttpFrontDoor", entry.Event);
        Assert.Equal("RunnerFailed request r-1: boom", entry.Message);
        Assert.Equal("System.InvalidOperationException: boom\n   at X.Y()", entry.Exception);
        Assert.Equal("r-1", entry.Fields["RequestId"]);
        Assert.Equal("500", entry.Fields["Status"]);
        Assert.Equal("fail: RunnerFailed request r-1: boom (System.InvalidOperationException: boom)", WorkerLineParser.AsText(entry));
    }

    [Theory]
    [InlineData("{\"level\":\"Loud\",\"message\":\"x\"}")]
    [InlineData("{\"message\":\"x\"}")]
    [InlineData("{not json")]
    [InlineData("[1,2]")]
    public void Text_that_is_not_a_json_log_line_is_taken_as_text(string line)
    {
        var entry = Parse(line);
        Assert.Equal(line, entry.Message);
        Assert.Equal(LogLevel.Information, entry.Level);
    }

    [Fact]
    public void The_levels_are_named_and_numbered_as_the_contract_names_them()
    {
        Assert.Equal(LogLineContract.LevelNames, Enum.GetNames<LogLevel>());
        Assert.Equal(Enumerable.Range(0, 6), Enum.GetValues<LogLevel>().Select(l => (int)l));
    }
}
