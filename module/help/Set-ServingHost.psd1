@{
    Synopsis    = 'Scales a running serving host: more or fewer API workers or runner workers, with no failed request.'
    Description = @'
Changes how many API workers, or how many workers of given runners, a running host has. New
workers start on the host's sockets and must report ready before anything else changes; API
workers then open connections to a scaled runner's new workers. Surplus workers — the highest
numbers, api-3 before api-2 — drain (up to -Timeout seconds) and are removed; their counters stay
in Get-ServingHost's Runners totals. Runners are scaled before API workers.

Everything is checked before anything starts: an unknown runner, a count below 1, or a
development-mode host (one process, nothing to scale) is a HostNotScalable error. A new worker that
fails to start is removed again and the host keeps the workers it had. The counts last as long as
the host, reloads (-Reload) included: a reload keeps them and says so; Start-ServingHost -ApiWorkers
and the manifest's Workers set them for the next start.

Given no -Name, -Id or input, it scales the session's only running host. With several running it
scales none: a HostAmbiguous error lists them and says how to choose; with none running it is a
HostNotFound error.
'@
    Parameters  = @{
        Name          = 'Names of the hosts to scale; wildcards are allowed.'
        Id            = 'Ids of the hosts to scale.'
        InputObject   = 'Hosts from Get-ServingHost, or jobs from Start-ServingHost. Accepts pipeline input.'
        ApiWorkers    = 'The number of API workers to run (1 to 1024).'
        RunnerWorkers = 'Worker counts by runner name, for example @{ classifier = 3 } (each 1 to 1024).'
        Timeout       = 'Seconds a removed worker may drain before it is killed. Default 30.'
        PassThru      = 'Write each scaled host''s HostInfo.'
    }
    Defaults    = @{
        ApiWorkers    = @{ Text = 'Unchanged' }
        RunnerWorkers = @{ Text = 'Unchanged' }
        Timeout       = 30
    }
    Inputs      = @{
        'PSObject[]' = 'Hosts (HostInfo from Get-ServingHost) or the jobs Start-ServingHost returned (ServingHostJob), bound to -InputObject.'
    }
    Outputs     = @{
        HostInfo = 'With -PassThru, each scaled host''s snapshot. Nothing otherwise.'
    }
    Examples    = @(
        @{ Code = 'Set-ServingHost -ApiWorkers 4'; Remarks = 'Runs four API workers on the session''s only running host.' }
        @{ Code = 'Set-ServingHost -Name demo -ApiWorkers 4'; Remarks = 'Runs four API workers on the host named demo.' }
        @{ Code = 'Set-ServingHost -Name demo -RunnerWorkers @{ classifier = 3 } -PassThru | Select-Object -ExpandProperty Runners'; Remarks = 'Runs three classifier workers and shows the runners afterwards.' }
    )
}
