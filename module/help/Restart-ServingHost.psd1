@{
    Synopsis    = 'Restarts a serving host''s workers one at a time, each new process ready before the old one drains: no request fails.'
    Description = @'
A rolling restart. For each worker in turn — every runner's workers first, then the API workers
(or only -Runner's workers) — a new process is started next to the running one, on the same
socket, and takes its place once it reports ready; only then is the old process told to drain
(for up to -Timeout seconds, killed after that). Requests sent all the while are served by one or
the other, so none fails. Each worker's Restarts count goes up by one; no crash is counted.

A new process that exits before it is ready, or is not ready within the host's -StartTimeout, is
killed, and the old process keeps serving: the restart stops there with a WorkerNotRestartable
error naming the worker and showing its last lines. A worker waiting to be respawned, or given up
on (Failed), is started again at once. A development-mode host restarts its one process the same
way. On Windows, where a new process cannot share the socket of the running one, each worker
drains first and is started again after.

Given no -Name, -Id or input, it restarts the session's only running host. With several running it
restarts none: a HostAmbiguous error lists them and says how to choose; with none running it is a
HostNotFound error.

Stop-Job on one worker's child job restarts that worker the same way.
'@
    Parameters  = @{
        Name        = 'Names of the hosts to restart; wildcards are allowed.'
        Id          = 'Ids of the hosts to restart.'
        InputObject = 'Hosts from Get-ServingHost, or jobs from Start-ServingHost. Accepts pipeline input.'
        Runner      = 'Restart only this runner''s workers. Not in development mode, whose runners run inside its one process.'
        Timeout     = 'Seconds each replaced process may drain before it is killed. Default 30.'
        PassThru    = 'Write each restarted host''s HostInfo.'
    }
    Defaults    = @{
        Runner  = @{ Text = 'Every worker: each runner''s workers, then the API workers' }
        Timeout = 30
    }
    Inputs      = @{
        'PSObject[]' = 'Hosts (HostInfo from Get-ServingHost) or the jobs Start-ServingHost returned (ServingHostJob), bound to -InputObject.'
    }
    Outputs     = @{
        HostInfo = 'With -PassThru, each restarted host''s snapshot. Nothing otherwise.'
    }
    Examples    = @(
        @{ Code = 'Restart-ServingHost'; Remarks = 'Restarts the session''s only running host; with several running, the error lists them.' }
        @{ Code = 'Restart-ServingHost -Name demo'; Remarks = 'Restarts every worker of the host named demo, one at a time, with no failed request.' }
        @{ Code = 'Get-ServingHost | Restart-ServingHost -Runner classifier -PassThru'; Remarks = 'Restarts the classifier runner''s workers of every host of this session and shows the hosts afterwards.' }
    )
}
