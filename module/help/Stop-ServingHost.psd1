@{
    Synopsis    = 'Stops serving hosts gracefully: stop accepting, drain in-flight requests, then stop every worker.'
    Description = @'
Stops accepting new connections, lets API workers finish in-flight requests for up to -Timeout
seconds, then stops the runners and kills whatever is left. When it returns, no worker process of the
host exists, its socket directory is removed and its port is free. The host's job ends as Stopped.
'@
    Parameters  = @{
        Name        = 'Names of the hosts to stop; wildcards are allowed.'
        Id          = 'Ids of the hosts to stop.'
        InputObject = 'Hosts from Get-ServingHost, or jobs from Start-ServingHost. Accepts pipeline input.'
        Timeout     = 'Seconds to drain in-flight requests before workers are killed. Default 30.'
        Force       = 'Kill the workers at once, without draining.'
        PassThru    = 'Write each stopped host''s final HostInfo.'
    }
    Defaults    = @{
        Timeout = 30
    }
    Inputs      = @{
        'PSObject[]' = 'Hosts (HostInfo from Get-ServingHost) or the jobs Start-ServingHost returned (ServingHostJob), bound to -InputObject.'
    }
    Outputs     = @{
        HostInfo = 'With -PassThru, each stopped host''s final snapshot. Nothing otherwise.'
    }
    Examples    = @(
        @{ Code = 'Get-ServingHost | Stop-ServingHost'; Remarks = 'Stops every host of this session.' }
        @{ Code = 'Stop-ServingHost -Name demo -Timeout 5 -PassThru'; Remarks = 'Stops the host named demo, draining for at most 5 seconds, and shows its final state.' }
    )
}
