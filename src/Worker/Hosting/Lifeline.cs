using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Serving.Worker.Hosting;

/// <summary>
/// stdin is the lifeline (docs/worker-protocol.md, "Standard streams"): <c>stop [seconds]</c>
/// or SIGTERM asks for a graceful drain; end of file means the supervisor is gone, and the
/// process exits within a second without draining. The same channel carries the supervisor's
/// word on runners (<c>runner-down</c>, <c>runner-up</c>, <c>runner-workers</c>) and on the host (<c>failing</c>).
/// </summary>
internal sealed class Lifeline : IDisposable
{
    public static readonly TimeSpan DefaultDrain = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan HardExitGrace = TimeSpan.FromMilliseconds(600);

    /// <summary>How long before the end of a drain requests still running are answered 503, at most.</summary>
    public static readonly TimeSpan MaxAnswerMargin = TimeSpan.FromMilliseconds(500);

    private readonly TaskCompletionSource<TimeSpan> _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopAccepting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopToken = new();
    private readonly CancellationTokenSource _drainExpired = new();
    private volatile string? _failing;
    private readonly List<PosixSignalRegistration> _signals = [];
    private readonly string _workerName;
    private readonly HashSet<string> _runnerNames;

    /// <param name="workerName">This worker's name, for the log.</param>
    /// <param name="runnerNames">The runners in host.json: a word about any other is ignored.</param>
    public Lifeline(string workerName, IEnumerable<string> runnerNames)
    {
        _workerName = workerName;
        _runnerNames = new HashSet<string>(runnerNames, StringComparer.Ordinal);
    }

    /// <summary>Completes with the drain timeout once a graceful stop was asked for.</summary>
    public Task<TimeSpan> StopRequested => _stop.Task;

    public bool IsStopping => _stop.Task.IsCompleted;

    /// <summary>
    /// Completes once the supervisor said <c>stop-accepting</c>: another generation took over, so this worker
    /// closes its listening sockets now and serves only the connections it has until its <c>stop</c>.
    /// </summary>
    public Task StopAcceptingRequested => _stopAccepting.Task;

    /// <summary>Cancelled once a graceful stop was asked for (e.g. to abandon a runner's initialisation).</summary>
    public CancellationToken StopToken => _stopToken.Token;

    /// <summary>
    /// Cancelled shortly before a drain's time is up (<see cref="AnswerMargin"/>): requests still
    /// running then are answered 503 (HTTP) / UNAVAILABLE (gRPC) while the connection can still carry
    /// an answer, instead of being reset when the drain ends.
    /// </summary>
    public CancellationToken DrainExpired => _drainExpired.Token;

    /// <summary>The supervisor's word on the runners, for API workers.</summary>
    public RunnerAvailability Runners { get; } = new();

    /// <summary>
    /// Set when the supervisor said the host is failing (a worker is gone for good and the host is
    /// ending): /livez answers 503 with this reason from then on, so a liveness probe fires.
    /// </summary>
    public string? FailingReason => _failing;

    /// <summary>The part of a drain of <paramref name="drain"/> kept to answer the requests still running.</summary>
    public static TimeSpan AnswerMargin(TimeSpan drain) =>
        drain / 4 < MaxAnswerMargin ? drain / 4 : MaxAnswerMargin;

    /// <summary>Starts the stdin reader (a background thread) and the signal handlers.</summary>
    public void Start()
    {
        var reader = new Thread(ReadStdin) { IsBackground = true, Name = "serving-lifeline" };
        reader.Start();

        TryRegister(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            RequestStop(DefaultDrain, "SIGTERM");
        });
        // Started by the supervisor (stdin redirected), Ctrl+C in the supervisor's terminal must not
        // take the workers down behind its back: only the lifeline and SIGTERM stop them. Started by
        // hand from a terminal, Ctrl+C drains like 'stop'.
        var interactive = !Console.IsInputRedirected;
        TryRegister(PosixSignal.SIGINT, ctx =>
        {
            ctx.Cancel = true;
            if (interactive)
                RequestStop(DefaultDrain, "SIGINT");
        });
    }

    private void TryRegister(PosixSignal signal, Action<PosixSignalContext> handler)
    {
        try
        {
            _signals.Add(PosixSignalRegistration.Create(signal, handler));
        }
        catch (PlatformNotSupportedException)
        {
        }
    }

    public void RequestStop(TimeSpan drain, string reason)
    {
        if (!_stop.TrySetResult(drain))
            return;
        LineLoggerProvider.Write(LogLevel.Information, $"{_workerName}: stop requested ({reason}); draining for up to {drain.TotalSeconds:0.###} s");
        _drainExpired.CancelAfter(drain - AnswerMargin(drain));
        try
        {
            _stopToken.Cancel();
        }
        catch (AggregateException ex)
        {
            LineLoggerProvider.Write(LogLevel.Warning, $"{_workerName}: a stop callback threw", ex);
        }
    }

    private void ReadStdin()
    {
        try
        {
            using var stdin = Console.OpenStandardInput();
            using var reader = new StreamReader(stdin, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false, bufferSize: 256);
            while (reader.ReadLine() is { } line)
                OnLine(line.Trim());
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or UnauthorizedAccessException or NotSupportedException)
        {
            // An unreadable stdin is the same as a closed one: nobody can stop us gracefully.
        }

        ExitNow(0, "stdin closed (the supervisor is gone); exiting");
    }

    /// <summary>One lifeline line, trimmed (the stdin reader's; tests give it lines directly).</summary>
    internal void OnLine(string line)
    {
        if (line.Length == 0)
            return;
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        switch (parts[0])
        {
            case "stop" when parts.Length <= 2:
                OnStop(line, parts);
                return;
            case "stop-accepting" when parts.Length == 1:
                if (_stopAccepting.TrySetResult())
                    LineLoggerProvider.Write(LogLevel.Information,
                        $"{_workerName}: no longer accepting connections (another generation took over); serving the open ones until told to stop");
                return;
            case "runner-down" when parts.Length >= 3:
                OnRunnerDown(line, parts);
                return;
            case "runner-up" when parts.Length == 2:
                Runners.SetUp(parts[1]);
                return;
            case "runner-workers" when parts.Length == 3:
                OnRunnerWorkers(line, parts);
                return;
            case "failing":
                var reason = parts.Length > 1 ? string.Join(' ', parts, 1, parts.Length - 1) : "the host is failing";
                _failing = reason;
                LineLoggerProvider.Write(LogLevel.Information, $"{_workerName}: the host is failing ({reason}); /livez answers 503");
                return;
        }
        LineLoggerProvider.Write(LogLevel.Warning, $"{_workerName}: ignoring unknown lifeline command '{line}'");
    }

    private void OnStop(string line, string[] parts)
    {
        var drain = DefaultDrain;
        if (parts.Length == 2)
        {
            if (!TryParseSeconds(parts[1], out var seconds))
            {
                LineLoggerProvider.Write(LogLevel.Warning, $"{_workerName}: ignoring lifeline command '{line}': bad seconds");
                return;
            }
            drain = TimeSpan.FromSeconds(seconds);
        }
        RequestStop(drain, "stop");
    }

    /// <summary><c>runner-down NAME RETRY-AFTER-SECONDS [reason…]</c>.</summary>
    private void OnRunnerDown(string line, string[] parts)
    {
        if (!TryParseSeconds(parts[2], out var retryAfter))
        {
            LineLoggerProvider.Write(LogLevel.Warning, $"{_workerName}: ignoring lifeline command '{line}': bad seconds");
            return;
        }
        var reason = parts.Length > 3 ? string.Join(' ', parts, 3, parts.Length - 3) : "";
        Runners.SetDown(parts[1], TimeSpan.FromSeconds(retryAfter), reason);
    }

    /// <summary><c>runner-workers NAME COUNT</c>: the supervisor scaled the runner; its connections follow.</summary>
    private void OnRunnerWorkers(string line, string[] parts)
    {
        if (!_runnerNames.Contains(parts[1]))
        {
            LineLoggerProvider.Write(LogLevel.Warning, $"{_workerName}: ignoring lifeline command '{line}': no runner named '{parts[1]}'");
            return;
        }
        if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var workers) || workers < 1)
        {
            LineLoggerProvider.Write(LogLevel.Warning, $"{_workerName}: ignoring lifeline command '{line}': bad worker count");
            return;
        }
        Runners.SetWorkers(parts[1], workers);
    }

    private static bool TryParseSeconds(string text, out double seconds) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds)
        && seconds >= 0 && !double.IsNaN(seconds) && seconds <= int.MaxValue / 1000;

    /// <summary>Exits at once: Environment.Exit, with a watchdog that ends the process hard if that hangs.</summary>
    public static void ExitNow(int code, string message)
    {
        try
        {
            LineLoggerProvider.Write(LogLevel.Information, message);
        }
        catch
        {
            // stdout may be gone together with the supervisor.
        }

        var watchdog = new Thread(() =>
        {
            Thread.Sleep(HardExitGrace);
            HardExit(code);
        }) { IsBackground = true, Name = "serving-exit-watchdog" };
        watchdog.Start();
        Environment.Exit(code);
    }

    private static void HardExit(int code)
    {
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                SysExit(code);
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
            }
        }
        Environment.FailFast($"worker did not exit within {HardExitGrace.TotalMilliseconds} ms after its lifeline closed");
    }

    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void SysExit(int status);

    public void Dispose()
    {
        foreach (var s in _signals)
            s.Dispose();
        _signals.Clear();
        _stopToken.Dispose();
        _drainExpired.Dispose();
    }
}
