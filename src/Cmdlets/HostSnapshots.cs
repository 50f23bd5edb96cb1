using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>A host's snapshot as the cmdlets write it: the runtime's HostInfo with the Id of its job in this session.</summary>
internal static class HostSnapshots
{
    public static HostInfo Take(ServingHost host, JobRepository jobs) => host.Snapshot().WithJobId(JobOf(host, jobs)?.Id);

    /// <summary>The job Start-ServingHost made for <paramref name="host"/> in this session, if it is still there.</summary>
    public static ServingHostJob? JobOf(ServingHost host, JobRepository jobs) =>
        jobs.Jobs.OfType<ServingHostJob>().FirstOrDefault(j => ReferenceEquals(j.Host, host));
}
