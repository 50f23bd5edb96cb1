using System.Diagnostics;

namespace Serving.Runtime.Supervision;

/// <summary>
/// Starts Serving.Worker processes: stdin redirected (the lifeline: when this process dies, even
/// by SIGKILL, the pipe closes and the worker exits), stdout/stderr read line by line, and at most
/// one listening socket inherited by fd.
/// </summary>
public sealed class ProcessWorkerLauncher : IWorkerLauncher
{
    private readonly string _fileName;
    private readonly string[] _prefixArguments;

    public ProcessWorkerLauncher(string fileName, IReadOnlyList<string> prefixArguments)
    {
        _fileName = fileName;
        _prefixArguments = prefixArguments.ToArray();
    }

    /// <summary>
    /// Finds the worker in <paramref name="workerDirectory"/>. Runs it with the dotnet host that runs
    /// us when there is one (a dotnet-tool pwsh), else with its apphost, else with 'dotnet' on PATH.
    /// </summary>
    public static ProcessWorkerLauncher Locate(string workerDirectory)
    {
        var dll = Path.Combine(workerDirectory, "Serving.Worker.dll");
        if (!File.Exists(dll))
            throw new ServingException(ErrorIds.WorkerNotFound, ServingErrorKind.NotInstalled,
                $"The worker '{dll}' is missing: the module is incomplete. Rebuild it (build.ps1 -Task Build) or reinstall it.", dll);
        var host = Environment.ProcessPath;
        if (host != null && Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            return new ProcessWorkerLauncher(host, new[] { dll });
        var apphost = Path.Combine(workerDirectory, OperatingSystem.IsWindows() ? "Serving.Worker.exe" : "Serving.Worker");
        if (File.Exists(apphost)) return new ProcessWorkerLauncher(apphost, Array.Empty<string>());
        return new ProcessWorkerLauncher("dotnet", new[] { dll });
    }

    public IWorkerProcess Start(WorkerSpec spec, IWorkerOutput output)
    {
        var info = new ProcessStartInfo(_fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var a in _prefixArguments) info.ArgumentList.Add(a);
        foreach (var a in spec.Arguments) info.ArgumentList.Add(a);
        foreach (var (k, v) in spec.Environment) info.Environment[k] = v;

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data != null) output.OnLine(e.Data, false); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) output.OnLine(e.Data, true); };

        lock (NativeFd.SpawnLock)
        {
            var listener = spec.InheritedListener;
            var inherit = listener != null && !OperatingSystem.IsWindows();
            if (inherit) NativeFd.SetInheritable(listener!.Handle, true);
            try
            {
                process.Start();
            }
            finally
            {
                if (inherit) NativeFd.SetInheritable(listener!.Handle, false);
            }
        }
        if (OperatingSystem.IsWindows()) WindowsJobObject.Assign(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new RealWorkerProcess(process);
    }

    private sealed class RealWorkerProcess : IWorkerProcess
    {
        private readonly Process _process;
        private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public RealWorkerProcess(Process process)
        {
            _process = process;
            Pid = process.Id;
            _process.Exited += (_, _) => Complete();
            if (_process.HasExited) Complete();
        }

        private void Complete()
        {
            // WaitForExit() (no timeout) also waits for the redirected streams to drain, so every
            // last log line is delivered before anyone hears that the worker exited.
            Task.Run(() =>
            {
                try { _process.WaitForExit(); _exited.TrySetResult(_process.ExitCode); }
                catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { _exited.TrySetResult(-1); }
            });
        }

        public int Pid { get; }

        public Task<int> Exited => _exited.Task;

        public void SendLine(string line)
        {
            try
            {
                _process.StandardInput.WriteLine(line);
                _process.StandardInput.Flush();
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException) { }
        }

        public void Kill()
        {
            try { _process.Kill(entireProcessTree: true); }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException) { }
        }

        public void Dispose()
        {
            try { _process.StandardInput.Dispose(); } catch (Exception e) when (e is IOException or InvalidOperationException) { }
            _process.Dispose();
        }
    }
}
