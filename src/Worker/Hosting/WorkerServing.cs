using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Serving.Worker.HttpFrontDoor;

namespace Serving.Worker.Hosting;

/// <summary>A worker's web host from its start to its exit: listen, report ready, wait for a stop, drain (docs/worker-protocol.md, "Stopping").</summary>
internal static class WorkerServing
{
    /// <summary>
    /// How long a drain waits for idle HTTP/1.1 keep-alive connections to send one more request (and
    /// get Connection: close) before Kestrel closes them: a client about to send does so at once.
    /// </summary>
    public static readonly TimeSpan KeepAliveGrace = TimeSpan.FromMilliseconds(500);

    /// <summary>Listens, reports ready, waits for a stop, drains for up to its timeout.</summary>
    public static async Task<int> ServeAsync(WebApplication app, WorkerArguments args, Lifeline lifeline, Action onStopping, Func<ILogger, Task> afterStop,
        bool keepAliveClients = false, bool http2Clients = false)
    {
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Serving.Worker");
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            var reason = FindListenFailure(ex);
            LineLoggerProvider.Write(LogLevel.Error, $"{args.WorkerName} cannot listen on {Listening.Describe(args)}: {reason.Message}");
            await afterStop(log).ConfigureAwait(false);
            return ExitCodes.CannotListen;
        }

        // A Unix socket the worker bound itself gets the umask's mode: only its owner may connect.
        if (args.Listen is { Kind: ListenKind.Unix, Path: { } socketPath } && !OperatingSystem.IsWindows())
            File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var where = addresses is { Count: > 0 } ? string.Join(", ", addresses) : Listening.Describe(args);
        LineLoggerProvider.Write(LogLevel.Information, $"{args.WorkerName} listening on {where}");
        LineLoggerProvider.WriteStdout(WorkerStatusLines.Ready);

        // 1. Stop accepting: the port refuses new connections once every copy of its socket is closed
        //    (the supervisor drops its own when a stop begins), instead of the kernel completing
        //    handshakes nobody will accept and resetting them when the process exits. On sockets this
        //    worker owns alone, new handshakes are dropped for a moment first (ListenerSynFilter), so
        //    those under way complete and are accepted before the close, and what still waits in an
        //    accept queue is answered 503 (HTTP/1.1) rather than reset. A shared, inherited socket is
        //    filtered by the supervisor when the whole host stops, before any worker is told to.
        //    The supervisor may ask for this step alone, before the stop (stop-accepting: a new
        //    generation took over and new connections belong to it); it is done once either way.
        var listenSockets = app.Services.GetRequiredService<ListenSockets>();
        var stopAcceptingGate = new Lock();
        Task<Task>? stoppedAccepting = null;
        Task<Task> StopAcceptingOnce(TimeSpan drain)
        {
            lock (stopAcceptingGate)
                return stoppedAccepting ??= StopAcceptingAsync(listenSockets, drain, keepAliveClients, http2Clients, args.WorkerName);
        }
        _ = lifeline.StopAcceptingRequested.ContinueWith(async _ =>
            {
                await StopAcceptingOnce(Lifeline.DefaultDrain).ConfigureAwait(false);
                // The supervisor announces the new generation from this line on (docs/worker-protocol.md).
                LineLoggerProvider.WriteStdout(WorkerStatusLines.NotAccepting);
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        var drain = await lifeline.StopRequested.ConfigureAwait(false);
        LineLoggerProvider.WriteStdout(WorkerStatusLines.Stopping);
        onStopping();
        var watch = Stopwatch.StartNew();
        var lateAnswers = await StopAcceptingOnce(drain).ConfigureAwait(false);

        // 2. HTTP/1.1: from now on every response says Connection: close (ApiHandler), so a keep-alive
        //    client learns with an answer that the connection ends, rather than having it closed under
        //    the next request it is already sending. Connections still idle after KeepAliveGrace were
        //    not about to send one; Kestrel's stop closes them.
        if (keepAliveClients)
        {
            // The grace counts from the drain's start: the handshake settle is part of it.
            var grace = drain - Lifeline.AnswerMargin(drain);
            var left = (grace < KeepAliveGrace ? grace : KeepAliveGrace) - watch.Elapsed;
            if (left > TimeSpan.Zero)
                await app.Services.GetRequiredService<OpenConnections>().WaitUntilNoneAsync(left).ConfigureAwait(false);
        }

        // 3. Kestrel's stop waits for requests in flight until the drain's end; those still running at
        //    DrainExpired (just before it) are answered 503 / UNAVAILABLE by the routes.
        var remaining = drain - watch.Elapsed;
        using (var cts = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero))
        {
            try
            {
                await app.StopAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            if (cts.IsCancellationRequested)
                log.LogWarning("drain timed out after {Seconds} s; open requests were aborted", drain.TotalSeconds);
            else
                log.LogInformation("drained in {Milliseconds} ms", watch.ElapsedMilliseconds);
        }

        // Connections found in the accept queue when it closed were answered 503; let those answers go out.
        await Task.WhenAny(lateAnswers, Task.Delay(TimeSpan.FromSeconds(3))).ConfigureAwait(false);
        await afterStop(log).ConfigureAwait(false);
        try
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            log.LogWarning(ex, "disposing the host failed");
        }
        LineLoggerProvider.Write(LogLevel.Information, $"{args.WorkerName} stopped");
        return ExitCodes.Stopped;
    }

    /// <summary>
    /// Step 1 of a drain (see <see cref="ServeAsync"/>): refuse new handshakes on the sockets this worker owns alone
    /// for a moment, then close every listening socket. Returns the answers to connections found waiting in an
    /// accept queue, which the stop awaits before the process ends.
    /// </summary>
    private static async Task<Task> StopAcceptingAsync(ListenSockets listenSockets, TimeSpan drain, bool keepAliveClients, bool http2Clients, string workerName)
    {
        if (keepAliveClients)
            listenSockets.AnswerLateConnection = LateConnectionAnswer.For(workerName);
        else if (http2Clients)
            listenSockets.AnswerLateConnection = LateConnectionAnswer.ForHttp2();
        if (listenSockets.RefuseNewHandshakes())
            await Task.Delay(ListenerSynFilter.SettleWithin(drain)).ConfigureAwait(false);
        return listenSockets.StopAcceptingAsync();
    }

    private static Exception FindListenFailure(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is Listening.ListenException or System.Net.Sockets.SocketException or IOException)
                return e;
        }
        return ex;
    }

    /// <summary>An <see cref="IHostLifetime"/> that does nothing: the lifeline and signals are handled by <see cref="Lifeline"/>.</summary>
}
