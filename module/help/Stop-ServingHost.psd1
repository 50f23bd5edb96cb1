@{
    Synopsis    = 'Stops serving hosts gracefully: stop accepting, drain in-flight requests, then stop every worker.'
    Description = @'
Stops accepting new connections, lets API workers finish in-flight requests for up to -Timeout
seconds, then stops the runners and kills whatever is left. When it returns, no worker process of the
host exists, its socket directory is removed and its port is free. The host's job ends as Stopped
(it stays in Get-Job until Remove-Job).

With no -Name, -Id or piped host it stops the session's only running host. When several are running
it stops none and raises a terminating error (HostAmbiguous) that lists each one's name, Id and URL
and says how to choose (-Name, -Id, or Get-ServingHost <name> | Stop-ServingHost). When none is
running it does nothing and writes no error (-Verbose says so), so a cleanup such as a Pester AfterAll
stays quiet after a start that failed.

A host's Id is its job's Id: Stop-ServingHost -Id 3 and Stop-Job -Id 3 stop the same host.
'@
    Parameters  = @{
        Name        = 'Names of the hosts to stop; wildcards are allowed. A name that matches no host is a non-terminating HostNotFound error. Default: none (the session''s only running host).'
        Id          = 'Ids of the hosts to stop: Get-ServingHost''s Id, which is also the job''s Id. Default: none.'
        InputObject = 'Hosts from Get-ServingHost, or jobs from Start-ServingHost. Accepts pipeline input (ByValue). Default: none.'
        Timeout     = 'Seconds to drain in-flight requests before workers are killed. Default 30.'
        Force       = 'Kill the workers at once, without draining. Default: off.'
        PassThru    = 'Write each stopped host''s final HostInfo. Default: off (no output).'
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
        @{ Code = 'Stop-ServingHost'; Remarks = 'Stops the session''s only running host; with several running, the error lists them.' }
        @{ Code = 'Get-ServingHost | Stop-ServingHost'; Remarks = 'Stops every host of this session.' }
        @{ Code = 'Stop-ServingHost -Name demo -Timeout 5 -PassThru'; Remarks = 'Stops the host named demo, draining for at most 5 seconds, and shows its final state.' }
    )
}
