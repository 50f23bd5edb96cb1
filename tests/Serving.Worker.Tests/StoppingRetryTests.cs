using System.Text;
using Serving.Worker.Batching;
using Serving.Worker.Hosting;
using Serving.Worker.Tests.Infrastructure;
using Serving.Worker.Transport;

namespace Serving.Worker.Tests;

/// <summary>
/// A runner worker that began to drain answers a call that crossed its GoAway <c>Stopping</c> without running
/// it; the API worker's <see cref="RunnerClient"/> sends such a call again (at most twice) on the connection it
/// picks next — a new one, which on the runner's shared socket leads to another worker. Not when the runner
/// was declared down, the caller cancelled, or the call's deadline passed. The runner here is a
/// <see cref="ScriptedRunner"/>: it logs every call (connection, input) and answers as its script says.
/// </summary>
public class StoppingRetryTests
{
    private static readonly WorkerTuning Tuning = new();

    /// <summary>Inputs starting "stop" are answered Stopping on their first attempt (and that connection drains); others, and later attempts, Ok.</summary>
    private static bool StopInputsStopOnce(string input, int attempt) => input.StartsWith("stop", StringComparison.Ordinal) && attempt == 0;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task A_call_answered_Stopping_is_sent_again_on_a_new_connection_and_answered_there(int workers)
    {
        using var host = new TestHost();
        using var runner = new ScriptedRunner(SocketIn(host), StopInputsStopOnce);
        using var lifeline = new Lifeline("api-1", ["echo"]);
        using var client = Client(runner.Path, workers, lifeline);

        Assert.Equal((ItemStatus.Ok, "c1:stop hello"), await CallAsync(client, "stop hello"));
        Assert.Equal(Log((0, "stop hello"), (1, "stop hello")), runner.Calls);
        Assert.Equal(2, runner.Accepted);

        // The draining connection takes no more calls. One slot: the new connection serves the next call;
        // more slots: round-robin picks the next one, which opens its own connection.
        var served = workers == 1 ? 1 : 2;
        Assert.Equal((ItemStatus.Ok, $"c{served}:ok next"), await CallAsync(client, "ok next"));
        Assert.Equal(Log((0, "stop hello"), (1, "stop hello"), (served, "ok next")), runner.Calls);
        Assert.Empty(runner.Faults);
    }

    [Fact]
    public async Task A_call_answered_Stopping_on_every_connection_is_sent_four_more_times_and_the_last_answer_stands()
    {
        using var host = new TestHost();
        using var runner = new ScriptedRunner(SocketIn(host), (_, _) => true);
        using var lifeline = new Lifeline("api-1", ["echo"]);
        using var client = Client(runner.Path, workers: 1, lifeline);

        Assert.Equal((ItemStatus.Stopping, "runner 'echo' worker c4 is stopping"), await CallAsync(client, "hello"));
        // Every attempt was logged before it was answered: these are all of them, each on a new connection.
        Assert.Equal(Log((0, "hello"), (1, "hello"), (2, "hello"), (3, "hello"), (4, "hello")), runner.Calls);
        Assert.Equal(5, runner.Accepted);

        // The bound is per call, not per client: the next call gets its own five attempts, on five new connections.
        Assert.Equal((ItemStatus.Stopping, "runner 'echo' worker c9 is stopping"), await CallAsync(client, "again"));
        Assert.Equal(10, runner.Calls.Length);
        Assert.All(runner.Calls[5..], c => Assert.Equal("again", c.Input));
        Assert.Empty(runner.Faults);
    }

    [Fact]
    public async Task A_Stopping_reply_read_before_its_GoAway_still_ends_on_another_connection()
    {
        using var host = new TestHost();
        using var runner = new ScriptedRunner(SocketIn(host), StopInputsStopOnce, ScriptedRunner.GoAwayOrder.AfterStopping);
        using var lifeline = new Lifeline("api-1", ["echo"]);
        using var client = Client(runner.Path, workers: 1, lifeline);

        // The Stopping answer itself retires the connection (its GoAway not read yet): the retry goes on a new one.
        Assert.Equal((ItemStatus.Ok, "c1:stop hello"), await CallAsync(client, "stop hello"));
        Assert.Equal(Log((0, "stop hello"), (1, "stop hello")), runner.Calls);
        Assert.Equal(2, runner.Accepted);
        Assert.Empty(runner.Faults);
    }

    [Fact]
    public async Task A_Stopping_reply_is_not_sent_again_while_the_runner_is_declared_down()
    {
        using var host = new TestHost();
        using var runner = new ScriptedRunner(SocketIn(host), StopInputsStopOnce);
        using var lifeline = new Lifeline("api-1", ["echo"]);
        using var client = Client(runner.Path, workers: 1, lifeline);

        // Runner up: sent again, answered on the new connection.
        Assert.Equal((ItemStatus.Ok, "c1:stop up"), await CallAsync(client, "stop up"));
        Assert.Equal(Log((0, "stop up"), (1, "stop up")), runner.Calls);

        // The supervisor says the runner has no live worker. Callers check Unavailable before a call, but a call
        // under way when the word came can still be answered Stopping after it: that answer stands. (The call is
        // made directly, so its Stopping answer lands while the runner is down.)
        lifeline.OnLine("runner-down echo 1 restarting");
        Assert.NotNull(client.Unavailable);
        Assert.Equal((ItemStatus.Stopping, "runner 'echo' worker c2 is stopping"), await CallAsync(client, "stop down"));
        Assert.Equal(Log((0, "stop up"), (1, "stop up"), (2, "stop down")), runner.Calls);

        lifeline.OnLine("runner-up echo");
        Assert.Null(client.Unavailable);
        Assert.Equal((ItemStatus.Ok, "c3:ok after"), await CallAsync(client, "ok after"));
        Assert.Equal(Log((0, "stop up"), (1, "stop up"), (2, "stop down"), (3, "ok after")), runner.Calls);
        Assert.Empty(runner.Faults);
    }

    [Fact]
    public async Task A_Stopping_reply_is_not_sent_again_when_the_caller_cancelled()
    {
        using var host = new TestHost();
        using var runner = new ScriptedRunner(SocketIn(host), StopInputsStopOnce);
        using var lifeline = new Lifeline("api-1", ["echo"]);
        using var client = Client(runner.Path, workers: 1, lifeline);

        // Not cancelled: sent again, answered on the new connection (c1), which the next call goes on at once.
        Assert.Equal((ItemStatus.Ok, "c1:stop first"), await CallAsync(client, "stop first"));

        // The caller cancels while the call is on c1, and c1's Stopping answer arrives after the cancellation
        // was requested but before the client's own cancellation callback ran (that one would answer the call
        // Cancelled itself): a callback registered before and one after the client's — whichever order the
        // token runs them in, one of them runs first — lets the runner answer and holds the cancellation until
        // the call is done. The client's callback is then unregistered by the answer and never runs.
        runner.Hold();
        using var cts = new CancellationTokenSource();
        Task<(ItemStatus, string)>? call = null;
        void AnswerWhileCancelling()
        {
            runner.Release();
            call?.Wait(TimeSpan.FromSeconds(10));
        }
        using var before = cts.Token.Register(AnswerWhileCancelling);
        // c1 is usable: the call is written and its cancellation registered before CallAsync returns.
        call = CallAsync(client, "stop cancelled", cancellationToken: cts.Token);
        using var after = cts.Token.Register(AnswerWhileCancelling);
        await Task.Run(cts.Cancel).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal((ItemStatus.Stopping, "runner 'echo' worker c1 is stopping"), await call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal((ItemStatus.Ok, "c2:ok after"), await CallAsync(client, "ok after"));
        Assert.Equal(Log((0, "stop first"), (1, "stop first"), (1, "stop cancelled"), (2, "ok after")), runner.Calls);
        Assert.Empty(runner.Faults);
    }

    [Fact]
    public async Task A_Stopping_reply_is_not_sent_again_past_the_calls_deadline()
    {
        using var host = new TestHost();
        using var runner = new ScriptedRunner(SocketIn(host), StopInputsStopOnce);
        using var lifeline = new Lifeline("api-1", ["echo"]);
        // No deadline sweep during the test: the late answer is not turned into TimedOut before it arrives.
        using var client = Client(runner.Path, workers: 1, lifeline, new WorkerTuning { DeadlineSweepMs = 600_000 });

        Assert.Equal((ItemStatus.Ok, "c1:stop first"), await CallAsync(client, "stop first", timeoutMs: 10_000));

        // The runner answers Stopping once the call's deadline has passed.
        const uint timeoutMs = 200;
        runner.Hold();
        var call = CallAsync(client, "stop late", timeoutMs);
        var deadlineAtLatest = Environment.TickCount64 + timeoutMs;
        await TestHost.Eventually(() => Task.FromResult(runner.Calls.Length == 3 && Environment.TickCount64 > deadlineAtLatest),
            TimeSpan.FromSeconds(10), "the call reached the runner and its deadline passed");
        runner.Release();

        Assert.Equal((ItemStatus.Stopping, "runner 'echo' worker c1 is stopping"), await call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal((ItemStatus.Ok, "c2:ok after"), await CallAsync(client, "ok after"));
        Assert.Equal(Log((0, "stop first"), (1, "stop first"), (1, "stop late"), (2, "ok after")), runner.Calls);
        Assert.Empty(runner.Faults);
    }

    private static (int Connection, string Input)[] Log(params (int Connection, string Input)[] calls) => calls;

    private static string SocketIn(TestHost host) => Path.Combine(host.Directory, "fake.sock");

    private static RunnerClient Client(string path, int workers, Lifeline lifeline, WorkerTuning? tuning = null) =>
        new("echo", new RunnerEndpointConfig { Transport = "Uds", Address = path, TransportKind = RunnerTransport.Uds }, workers,
            secret: null, TimeSpan.FromSeconds(30), maxReply: 1 << 20, tuning ?? Tuning, lifeline);

    /// <summary>One call of method echo: its status, and its output (Ok) or message.</summary>
    private static async Task<(ItemStatus, string)> CallAsync(RunnerClient client, string text, uint timeoutMs = 0,
        CancellationToken cancellationToken = default)
    {
        var reply = await client.CallAsync(new CallHeader(-1, "echo"u8.ToArray(), timeoutMs, 0, "stopping-test"), Encoding.UTF8.GetBytes(text),
            cancellationToken).WaitAsync(TimeSpan.FromSeconds(10));
        try
        {
            return (reply.Status, reply.Status == ItemStatus.Ok ? Encoding.UTF8.GetString(reply.Output.Span) : reply.Message ?? "");
        }
        finally
        {
            reply.Release();
        }
    }
}
