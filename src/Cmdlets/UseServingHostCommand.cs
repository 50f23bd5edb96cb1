using System.Management.Automation;
using System.Net;
using System.Net.Sockets;

namespace Serving.Cmdlets;

/// <summary>
/// <para type="synopsis">Starts a serving host on a free port, runs a script block with it, and always stops and removes the host.</para>
/// </summary>
[Cmdlet(VerbsOther.Use, "ServingHost")]
[OutputType(typeof(PSObject))]
public sealed class UseServingHostCommand : PSCmdlet
{
    private static readonly HostOptions Defaults = new();

    /// <summary>The block to run; its first argument is the host's HostInfo (Url, Id, Protocol, ...).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public ScriptBlock ScriptBlock { get; set; } = null!;

    /// <summary>The service manifest (.psd1) or its directory; the embedded demo service when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServiceManifestCompleter))]
    public string? Service { get; set; }

    /// <summary>The API protocol: Http (default) or Grpc.</summary>
    [Parameter] public ServingProtocol Protocol { get; set; } = ServingProtocol.Http;

    /// <summary>One process for API and runners.</summary>
    [Parameter] public SwitchParameter Development { get; set; }

    /// <summary>API worker processes; default 1 (a test host).</summary>
    [Parameter][ValidateRange(1, 1024)] public int ApiWorkers { get; set; } = 1;

    /// <summary>The API port; default a free one.</summary>
    [Parameter][ValidateRange(1, 65535)] public int Port { get; set; }

    /// <summary>The host's name; default: the service name (then name-2, ...).</summary>
    [Parameter][ValidatePattern("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")] public string? Name { get; set; }

    /// <summary>Seconds to wait for the host to become ready. Default 60.</summary>
    [Parameter][ValidateRange(1, 3600)] public int StartTimeout { get; set; } = (int)Defaults.StartTimeout.TotalSeconds;

    /// <summary>Seconds in-flight requests may drain when the block ends. Default 30.</summary>
    [Parameter][ValidateRange(0, 3600)] public int StopTimeout { get; set; } = (int)Defaults.StopTimeout.TotalSeconds;

    private readonly CancellationTokenSource _cancel = new();

    protected override void StopProcessing() => _cancel.Cancel();

    protected override void EndProcessing()
    {
        var job = Start();
        try
        {
            // On the pipeline thread, in the block's own scope: a steppable pipeline begun with this cmdlet writes
            // each object the block outputs to the next command at once (a long block shows progress as it goes,
            // and a downstream command runs while the host is up); an error it throws propagates as it is, after
            // the finally below removed the host.
            // The call is one command, made for each use (a script block takes the session state it first runs in);
            // its parameters are named so that no variable of the caller's is shadowed for the block.
            using var block = ScriptBlock.Create("param($__ServingUseBlock, $__ServingUseHost) & $__ServingUseBlock $__ServingUseHost").GetSteppablePipeline(CommandOrigin.Internal, new object[] { ScriptBlock, HostSnapshots.Take(job.Host, JobRepository) });
            block.Begin(this);
            block.End();
        }
        finally
        {
            StopAndRemove(job);
        }
    }

    /// <summary>
    /// The host, started as a job; a start that fails is one terminating error (the start's own), with nothing of the
    /// host left behind: no process, no socket directory, no job, no entry in Get-ServingHost.
    /// </summary>
    private ServingHostJob Start()
    {
        try
        {
            var servicePath = Service is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Service);
            var launch = HostLaunch.Prepare(new HostRequest
            {
                Name = Name,
                LoadService = buildOutput => ModuleFiles.LoadService(servicePath, buildOutput),
                Platform = PlatformSource.Resolve(null),
                PlanOptions = new PlanOptions
                {
                    Protocol = Protocol,
                    Development = Development,
                    ApiWorkers = ApiWorkers,
                    Port = MyInvocation.BoundParameters.ContainsKey(nameof(Port)) ? Port : FreePort(Protocol),
                    // The block is the client, on this machine: loopback, also in a container (where the platform
                    // rule would listen on every interface for a published port).
                    HostAddress = "127.0.0.1",
                },
                Options = new HostOptions
                {
                    StartTimeout = TimeSpan.FromSeconds(StartTimeout),
                    StopTimeout = TimeSpan.FromSeconds(StopTimeout),
                },
                Launcher = HostJobStarter.WorkerLauncher(),
            });
            foreach (var warning in launch.Warnings) WriteWarning(warning);
            return HostJobStarter.Start(this, launch, "Use-ServingHost", _cancel.Token);
        }
        catch (ServingException e)
        {
            ThrowTerminatingError(ErrorRecords.From(e));
            throw; // not reached: ThrowTerminatingError throws
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }

    /// <summary>Stops the host (at once after Ctrl+C), then removes its job, which unregisters and disposes the host.</summary>
    private void StopAndRemove(ServingHostJob job)
    {
        try
        {
            if (!job.Host.Completion.IsCompleted)
                job.StopHostAsync(Stopping ? TimeSpan.Zero : TimeSpan.FromSeconds(StopTimeout), force: Stopping).GetAwaiter().GetResult();
        }
        finally
        {
            JobRepository.Remove(job);
            job.Dispose();
        }
    }

    /// <summary>
    /// Port 0 for HTTP: the host binds any free port and keeps it. A gRPC host's API workers bind the port themselves,
    /// so it needs a number: one the OS just gave out and took back (another process could take it in between; then
    /// the start fails with PortInUse, and the caller may try again).
    /// </summary>
    private static int FreePort(ServingProtocol protocol)
    {
        if (protocol == ServingProtocol.Http) return 0;
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
