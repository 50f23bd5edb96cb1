extern alias runtime;

using System.Text.Json;
using Microsoft.Extensions.Logging;
using Serving.Worker.Hosting;
using Serving.Worker.Tests.Infrastructure;
using Supervision = runtime::Serving.Runtime.Supervision;

namespace Serving.Worker.Tests;

/// <summary>
/// The worker's log lines (docs/worker-protocol.md, "Log lines"): text with the exception on indented lines below,
/// one JSON object per line, the minimum level; and the supervisor reads back what the worker wrote.
/// </summary>
public sealed class LogLineTests
{
    private static readonly DateTimeOffset Time = new(2026, 3, 4, 5, 6, 7, 890, TimeSpan.Zero);

    private static Exception Thrown()
    {
        try
        {
            throw new InvalidOperationException("boom", new FormatException("inner cause"));
        }
        catch (InvalidOperationException e)
        {
            return e;
        }
    }

    private static readonly KeyValuePair<string, object?>[] Fields =
    [
        new("ErrorId", "RunnerFailed"), new("RequestId", "0HN-1"), new("Status", 500), new("Ratio", 0.5), new("Retry", true),
        new("{OriginalFormat}", "{ErrorId} request {RequestId}"),
    ];

    [Fact]
    public void A_text_event_with_an_exception_is_its_line_then_the_exception_on_indented_lines()
    {
        var exception = Thrown();
        var text = LogLineFormatter.Format(LogFormat.Text, Time, LogLevel.Error, "runner-1", "Serving.Runner", null, "RunnerFailed request 0HN-1: failed", exception, null);
        var lines = text.Split('\n');
        Assert.Equal("fail: RunnerFailed request 0HN-1: failed", lines[0]);
        Assert.True(lines.Length > 2);
        Assert.All(lines.Skip(1), l => Assert.True(l.Length > 0 && char.IsWhiteSpace(l[0]), $"'{l}' starts with whitespace"));
        Assert.Equal("    System.InvalidOperationException: boom", lines[1]);
        Assert.Contains(lines, l => l.Contains("inner cause"));
        Assert.DoesNotContain(" | ", text);
        // A message of several lines continues the same way; a foreign category is named.
        Assert.Equal("warn: Microsoft.AspNetCore.Server: one\n    two",
            LogLineFormatter.Format(LogFormat.Text, Time, LogLevel.Warning, "api-1", "x", "Microsoft.AspNetCore.Server", "one\r\ntwo", null, null));
    }

    [Fact]
    public void A_json_event_is_one_object_on_one_line_with_every_field()
    {
        var exception = Thrown();
        var line = LogLineFormatter.Format(LogFormat.Json, Time, LogLevel.Error, "runner-1", "Serving.Runner", null, "RunnerFailed \"request\"\n0HN-1", exception, Fields);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain('\r', line);
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal(["timestamp", "level", "worker", "event", "message", "exception", "fields"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Time, root.GetProperty("timestamp").GetDateTimeOffset());
        Assert.Equal("Error", root.GetProperty("level").GetString());
        Assert.Equal("runner-1", root.GetProperty("worker").GetString());
        Assert.Equal("Serving.Runner", root.GetProperty("event").GetString());
        Assert.Equal("RunnerFailed \"request\"\n0HN-1", root.GetProperty("message").GetString());
        Assert.Equal(exception.ToString(), root.GetProperty("exception").GetString());
        var fields = root.GetProperty("fields");
        Assert.Equal("0HN-1", fields.GetProperty("RequestId").GetString());
        Assert.Equal(500, fields.GetProperty("Status").GetInt32());
        Assert.Equal(0.5, fields.GetProperty("Ratio").GetDouble());
        Assert.True(fields.GetProperty("Retry").GetBoolean());
        Assert.False(fields.TryGetProperty("{OriginalFormat}", out _));
        // Without an exception or fields, neither key.
        using var plain = JsonDocument.Parse(LogLineFormatter.Format(LogFormat.Json, Time, LogLevel.Information, "api-1", "Serving.Worker", null, "listening", null, null));
        Assert.Equal(["timestamp", "level", "worker", "event", "message"], plain.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void The_supervisor_reads_back_what_the_worker_writes_in_either_format()
    {
        var exception = Thrown();
        var json = LogLineFormatter.Format(LogFormat.Json, Time, LogLevel.Warning, "api-2", "Serving.Worker.HttpFrontDoor", null, "slow", exception, Fields);
        var entry = Supervision.WorkerLineParser.Parse(json, isError: true, previous: null, "h", "api-2", 7, DateTimeOffset.Now);
        Assert.Equal(Supervision.LogLevel.Warning, entry.Level);
        Assert.Equal(Time, entry.Time);
        Assert.Equal("slow", entry.Message);
        Assert.Equal("Serving.Worker.HttpFrontDoor", entry.Event);
        Assert.Equal(exception.ToString(), entry.Exception);
        Assert.Equal("0HN-1", entry.Fields["RequestId"]);
        Assert.Equal("500", entry.Fields["Status"]);

        var text = LogLineFormatter.Format(LogFormat.Text, Time, LogLevel.Critical, "api-2", "x", null, "down", exception, null).Split('\n');
        Supervision.LogLevel? previous = null;
        var entries = text.Select(line =>
        {
            var e = Supervision.WorkerLineParser.Parse(line, isError: true, previous, "h", "api-2", 7, DateTimeOffset.Now);
            previous = e.Level;
            return e;
        }).ToArray();
        Assert.Equal("down", entries[0].Message);
        Assert.All(entries, e => Assert.Equal(Supervision.LogLevel.Critical, e.Level));
    }

    [Fact]
    public void Every_level_has_the_same_name_and_number_on_both_sides()
    {
        foreach (var level in Enum.GetValues<LogLevel>().Where(l => l != LogLevel.None))
            Assert.Equal(level.ToString(), ((Supervision.LogLevel)(int)level).ToString());
        Assert.Equal(6, Enum.GetValues<Supervision.LogLevel>().Length);
    }

    [Fact]
    public async Task A_json_worker_writes_json_lines_and_control_lines_as_they_are()
    {
        using var host = new TestHost();
        host.WriteConfig(logFormat: "Json");
        var port = TestHost.FreeTcpPort();
        var dev = host.StartRole("dev", $"http://127.0.0.1:{port}");
        await dev.WaitReadyAsync();
        using var client = TestHost.Client(port);
        using var response = await client.PostAsync("/fail", TestHost.Body("x"));
        var requestId = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("requestId").GetString()!;
        await dev.WaitForLineAsync(l => l.Contains(requestId) && l.Contains("\"exception\""), TimeSpan.FromSeconds(5), "the JSON line of the failure");

        Assert.Contains("@@serving ready", dev.Lines);
        foreach (var line in dev.Lines.Where(l => !l.StartsWith("@@serving ", StringComparison.Ordinal)))
        {
            var text = line.StartsWith("[err] ", StringComparison.Ordinal) ? line[6..] : line;
            using var json = JsonDocument.Parse(text);
            Assert.Equal("dev-1", json.RootElement.GetProperty("worker").GetString());
        }
        var failure = dev.Lines.Single(l => l.Contains(requestId) && l.Contains("\"exception\""));
        Assert.StartsWith("[err] {", failure);
        using var parsed = JsonDocument.Parse(failure[6..]);
        Assert.Equal("Error", parsed.RootElement.GetProperty("level").GetString());
        Assert.Contains("secret internal detail", parsed.RootElement.GetProperty("exception").GetString());
        Assert.Equal(requestId, parsed.RootElement.GetProperty("fields").GetProperty("RequestId").GetString());
    }

    [Fact]
    public async Task Below_the_minimum_level_nothing_is_written()
    {
        using var host = new TestHost();
        host.WriteConfig(logLevel: "Warning");
        var port = TestHost.FreeTcpPort();
        var dev = host.StartRole("dev", $"http://127.0.0.1:{port}");
        await dev.WaitReadyAsync();
        using var client = TestHost.Client(port);
        using (await client.PostAsync("/fail", TestHost.Body("x"))) { }
        await dev.WaitForLineAsync(l => l.StartsWith("[err] fail: RunnerFailed", StringComparison.Ordinal), TimeSpan.FromSeconds(5), "the failure's line");
        dev.Send("stop 1");
        Assert.Equal(0, await dev.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.DoesNotContain(dev.Lines, l => l.StartsWith("info: ", StringComparison.Ordinal));
        Assert.Contains("@@serving stopping", dev.Lines);
    }
}
