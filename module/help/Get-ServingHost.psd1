@{
    Synopsis    = 'Gets the serving hosts of this session: state, endpoints, transport and every worker.'
    Description = @'
Returns one HostInfo per host started in this session: Name, Id, State (Starting, Running, Degraded,
Stopping, Stopped, Failed) and, when Degraded, the Reason; Protocol, Url, Transport, SocketDirectory,
Workers - each with Role, Name, Index, Pid, State, Restarts, Endpoint and StartedAt - and Runners:
one row per runner with Name, Workers (running), Batchable (from the service's assembly or model, known
from the start), Calls, Batches, Items, MeanBatchSize,
P99QueueWaitMs (an upper bound, from merged histograms), Shed (503 Overloaded), TimedOut and
ReportedAt. Runner workers report once a second while something changes; the totals include the
workers a runner had before a respawn, so they never go backwards.

For scripts: StartedAt is when the host became ready (every worker of its first generation had
reported ready), and Uptime is how long it had been up since then when the object was made (a
TimeSpan; until it stopped, for a stopped host; null before it was ready), and each worker has one too while a process
of it runs. Id is also the Id of the host's job (the job is made first and the host takes its Id), so
Get-Job -Id, Receive-Job -Id, Wait-Job -Id and Stop-Job -Id take it. JobId is kept for scripts that
read it: it equals Id while the job is in this session's job repository, and is null once the job was
removed (Remove-Job). HttpVersion is the HTTP version its port speaks: 1.1 for an HTTP host,
2.0 for a gRPC host. A gRPC host's Url is http://ADDRESS:PORT like an HTTP host's (the address
HttpClient and GrpcChannel.ForAddress take), but the port answers only HTTP/2 with prior knowledge
(h2c), /metrics and the probes included: the views show its URL followed by "(HTTP/2)"; call it
with curl --http2-prior-knowledge or grpcurl -plaintext ADDRESS:PORT.
'@
    Parameters  = @{
        Name = 'Host names to get; wildcards are allowed. All hosts when omitted. A name without wildcards that matches nothing is an error (HostNotFound).'
        Id   = 'Host ids to get: the Id property, which is also the host''s job Id.'
    }
    Defaults    = @{
        Name = @{ Text = 'Every host of this session' }
    }
    Inputs      = @{
        'String[]' = 'Objects with a Name property (for example HostInfo or the host''s job), whose Name binds to -Name by property name.'
    }
    Outputs     = @{
        HostInfo = 'One snapshot per host: name, state, URL, transport, generation, uptime, its workers (pid, state, restarts) and runners (calls, batches).'
    }
    Examples    = @(
        @{ Code = 'Get-ServingHost | Format-List'; Remarks = 'Every host with its workers: pid, state, restarts.' }
        @{ Code = '(Get-ServingHost demo).Workers | Format-Table'; Remarks = 'The workers of the host named demo.' }
        @{ Code = '(Get-ServingHost demo).Runners'; Remarks = 'Calls and batches of each runner of the host named demo: how well batching gathers requests.' }
        @{ Code = 'Get-ServingHost | Select-Object Name, Uptime, JobId, Url, HttpVersion'; Remarks = 'What a script needs to find a host''s job and call it with the right HTTP version.' }
    )
}
