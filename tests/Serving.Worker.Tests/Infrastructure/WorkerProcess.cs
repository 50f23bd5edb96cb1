using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace Serving.Worker.Tests.Infrastructure;

/// <summary>
/// A real Serving.Worker process started as <c>dotnet Serving.Worker.dll ...</c> with stdin
/// redirected (the lifeline) and stdout/stderr captured line by line. Disposing kills it.
/// </summary>
public sealed class WorkerProcess : IDisposable
{
    private static readonly Lock StartLock = new();
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Lock _linesLock = new();

    private WorkerProcess(Process process) => _process = process;

    public int Id => _process.Id;
    public string Name { get; private init; } = "";

    /// <summary>The worker's build output (embedded at build time by the test project).</summary>
    public static string WorkerDll { get; } =
        typeof(WorkerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .First(a => a.Key == "ServingWorkerPath").Value!;

    private static string DotnetHost
    {
        get
        {
            var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(host) && File.Exists(host))
                return host;
            var self = Environment.ProcessPath;
            if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
                return self;
            return "dotnet";
        }
    }

    /// <summary>
    /// Starts a worker. <paramref name="inheritFd"/>: a socket fd of this process the child must
    /// inherit (its close-on-exec flag is cleared just for the start).
    /// </summary>
    public static WorkerProcess Start(string name, IEnumerable<string> args, int? inheritFd = null, IDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        psi.ArgumentList.Add(WorkerDll);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
                psi.Environment[k] = v;
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var worker = new WorkerProcess(process) { Name = name };
        process.OutputDataReceived += (_, e) => worker.OnLine(e.Data, "out");
        process.ErrorDataReceived += (_, e) => worker.OnLine(e.Data, "err");

        // Every child start is serialised so that an fd made inheritable for one child cannot
        // leak into another started at the same moment by a parallel test.
        lock (StartLock)
        {
            int flags = 0;
            if (inheritFd is { } fd)
            {
                flags = Fcntl(fd, F_GETFD, 0);
                if (flags < 0 || Fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
                    throw new InvalidOperationException($"fcntl on fd {fd} failed: errno {Marshal.GetLastPInvokeError()}");
            }
            try
            {
                process.Start();
            }
            finally
            {
                if (inheritFd is { } fd2)
                    Fcntl(fd2, F_SETFD, flags);
            }
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    private void OnLine(string? line, string stream)
    {
        if (line is null)
            return;
        lock (_linesLock)
            _lines.Add(stream == "err" ? "[err] " + line : line);
    }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_linesLock)
                return [.. _lines];
        }
    }

    public string Output => string.Join('\n', Lines);

    /// <summary>
    /// The lines as events: a line with the lines that continue it (an exception's, indented) joined to it by '\n'.
    /// Continuation lines follow their event on the same stream, so each is joined to the stream's last event.
    /// </summary>
    public IReadOnlyList<string> Events
    {
        get
        {
            var events = new List<string>();
            int lastOut = -1, lastErr = -1;
            foreach (var line in Lines)
            {
                var err = line.StartsWith("[err] ", StringComparison.Ordinal);
                var text = err ? line[6..] : line;
                var last = err ? lastErr : lastOut;
                if (text.Length > 0 && char.IsWhiteSpace(text[0]) && last >= 0)
                {
                    events[last] += "\n" + text;
                    continue;
                }
                events.Add(line);
                if (err) lastErr = events.Count - 1;
                else lastOut = events.Count - 1;
            }
            return events;
        }
    }

    /// <summary>Polls for an event (<see cref="Events"/>) until the deadline.</summary>
    public Task WaitForEventAsync(Func<string, bool> predicate, TimeSpan timeout, string what) =>
        WaitForLineAsync(_ => Events.Any(predicate), timeout, what);

    public bool HasExited => _process.HasExited;

    public bool HasLine(Func<string, bool> predicate)
    {
        lock (_linesLock)
            return _lines.Any(predicate);
    }

    /// <summary>Polls for a line until the deadline; fails with the output if the process exits first.</summary>
    public async Task WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (HasLine(predicate))
                return;
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync();
                if (HasLine(predicate))
                    return;
                throw new Xunit.Sdk.XunitException($"{Name} exited with {_process.ExitCode} before '{what}':\n{Output}");
            }
            await Task.Delay(15);
        }
        throw new TimeoutException($"{Name}: no '{what}' within {timeout.TotalSeconds} s:\n{Output}");
    }

    public Task WaitReadyAsync(TimeSpan? timeout = null) =>
        WaitForLineAsync(l => l == "@@serving ready", timeout ?? TimeSpan.FromSeconds(30), "@@serving ready");

    public void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    public void CloseStdin() => _process.StandardInput.Close();

    /// <summary>Waits for the process to exit; returns its exit code, or throws on timeout.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds} s:\n{Output}");
        }
        return _process.ExitCode;
    }

    public void SendSignal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    private const int F_GETFD = 1;
    private const int F_SETFD = 2;
    private const int FD_CLOEXEC = 1;
    public const int SIGTERM = 15;

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static extern int Fcntl(int fd, int cmd, int arg);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
