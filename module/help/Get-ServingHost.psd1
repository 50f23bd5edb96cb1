@{
    Synopsis    = 'Gets the serving hosts of this session: state, endpoints, transport and every worker.'
    Description = @'
Returns one HostInfo per host started in this session: Name, Id, State (Starting, Running, Degraded,
Stopping, Stopped, Failed) and, when Degraded, the Reason; Protocol, Url, Transport, SocketDirectory,
Workers - each with Role, Name, Index, Pid, State, Restarts, Endpoint and StartedAt - and Runners:
one row per runner with Name, Workers (running), Batchable, Calls, Batches, Items, MeanBatchSize,
P99QueueWaitMs (an upper bound, from merged histograms), Shed (503 Overloaded), TimedOut and
ReportedAt. Runner workers report once a second while something changes; the totals include the
workers a runner had before a respawn, so they never go backwards.
'@
    Parameters  = @{
        Name = 'Host names to get; wildcards are allowed. All hosts when omitted. A name without wildcards that matches nothing is an error (HostNotFound).'
        Id   = 'Host ids to get (the Id property).'
    }
    Examples    = @(
        @{ Code = 'Get-ServingHost | Format-List'; Remarks = 'Every host with its workers: pid, state, restarts.' }
        @{ Code = '(Get-ServingHost demo).Workers | Format-Table'; Remarks = 'The workers of the host named demo.' }
        @{ Code = '(Get-ServingHost demo).Runners'; Remarks = 'Calls and batches of each runner of the host named demo: how well batching gathers requests.' }
    )
}
