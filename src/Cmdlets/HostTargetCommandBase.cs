using System.Management.Automation;

namespace Serving.Commands;

/// <summary>
/// A cmdlet that acts on live hosts named by -Name (wildcards), -Id, or piped in (-InputObject):
/// Stop-, Restart- and Set-ServingHost select them the same way and report the same errors.
/// </summary>
public abstract class HostTargetCommandBase : PSCmdlet
{
    protected const string NameSet = "Name";
    protected const string IdSet = "Id";
    protected const string InputSet = "InputObject";

    /// <summary>Host names; wildcards allowed.</summary>
    [Parameter(ParameterSetName = NameSet, Position = 0, Mandatory = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(HostNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Host ids.</summary>
    [Parameter(ParameterSetName = IdSet, Mandatory = true)]
    public int[] Id { get; set; } = Array.Empty<int>();

    /// <summary>Hosts from Get-ServingHost, or the jobs Start-ServingHost returned.</summary>
    [Parameter(ParameterSetName = InputSet, Mandatory = true, ValueFromPipeline = true)]
    public PSObject[] InputObject { get; set; } = Array.Empty<PSObject>();

    private readonly CancellationTokenSource _cancel = new();

    /// <summary>Cancelled on Ctrl+C.</summary>
    protected CancellationToken Cancellation => _cancel.Token;

    protected override void StopProcessing() => _cancel.Cancel();

    /// <summary>The hosts this record names; a name or id that matches none is a non-terminating error.</summary>
    protected IEnumerable<ServingHost> SelectHosts()
    {
        List<string> unmatched = new();
        IEnumerable<ServingHost> hosts = ParameterSetName switch
        {
            IdSet => HostSelection.ById(Id, out unmatched),
            InputSet => Resolve(InputObject),
            _ => HostSelection.ByName(Name, out unmatched),
        };
        foreach (var missing in unmatched)
            WriteError(HostSelection.NotFound(ParameterSetName == IdSet ? $"with id {missing}" : $"named '{missing}'"));
        return hosts;
    }

    private IEnumerable<ServingHost> Resolve(PSObject[] items)
    {
        foreach (var item in items)
        {
            var host = HostSelection.FromObject(item);
            if (host is null)
                WriteError(ErrorRecords.From(ErrorIds.HostNotFound, ErrorCategory.InvalidArgument,
                    $"'{item}' is not a serving host: pipe objects from Get-ServingHost or Start-ServingHost.", item));
            else
                yield return host;
        }
    }

    /// <summary>
    /// Runs a host operation on the thread pool while this thread writes its progress; a failure is a
    /// non-terminating error for this host (the next piped host is still processed). Ctrl+C stops the
    /// pipeline; what the operation already did stays done, what it started is finished by the host.
    /// </summary>
    protected bool RunWithProgress(ServingHost host, string activity, Func<IProgress<(int Percent, string Status)>, Task> operation)
    {
        var progress = new ProgressQueue();
        var record = new ProgressRecord(2, activity, "Starting");
        var task = operation(progress);
        try
        {
            while (!task.IsCompleted)
            {
                if (_cancel.IsCancellationRequested) throw new PipelineStoppedException();
                task.Wait(100);
                foreach (var (percent, status) in progress.Drain())
                {
                    record.PercentComplete = percent;
                    record.StatusDescription = status;
                    WriteProgress(record);
                }
            }
        }
        catch (AggregateException)
        {
            // Reported below, from the task.
        }
        finally
        {
            record.RecordType = ProgressRecordType.Completed;
            WriteProgress(record);
        }
        try
        {
            task.GetAwaiter().GetResult();
            return true;
        }
        catch (ServingException e)
        {
            WriteError(ErrorRecords.From(e));
            return false;
        }
    }

    private sealed class ProgressQueue : IProgress<(int Percent, string Status)>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(int, string)> _reports = new();

        public void Report((int Percent, string Status) value) => _reports.Enqueue(value);

        public IEnumerable<(int Percent, string Status)> Drain()
        {
            while (_reports.TryDequeue(out var r)) yield return r;
        }
    }
}
