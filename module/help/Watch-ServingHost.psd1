@{
    Synopsis    = 'Shows a live view of serving hosts in the terminal: workers'' CPU and memory, request rates, errors, latency and batching, refreshed until q or Ctrl+C.'
    Description = @'
Draws a screen that is redrawn in place every -RefreshInterval seconds (the alternate screen buffer,
so the terminal is as it was when the watch ends) until you press q (or Esc) or Ctrl+C. Leaving the
watch never stops a host: it keeps serving, and its job keeps running.

For each host: its name, URL (a gRPC host's URL is marked "gRPC: HTTP/2 only, h2c"), state,
generation, uptime and job id; its service, protocol, mode, runner transport and respawn rule; why
it is Degraded or Failed. Workers, the supervisor (this pwsh) first: role, pid, state, generation,
restarts, uptime, CPU % since the last refresh (of one core, as top shows it: 200 is two busy
cores) and resident memory, read per pid from the operating system. Per API (route and protocol),
from the host's /metrics: requests per second over the last interval, the share of answers that
were not 2xx (gRPC: not OK), the p50 and p99 latency of that interval (interpolated in the
histogram's buckets as Prometheus's histogram_quantile does), the mean latency, requests in
flight, and requests since the host started. Per runner: live workers, calls per second, p99 of
an API worker's call to it, the mean batch size of the interval and since the start, the p99 time
items waited in the batch queue, items shed (refused by a full queue) per second and in all, and
calls in all. Rates need two scrapes: the first screen shows "-" where a rate will be. A counter
that goes down (a reset) counts from zero again, so no rate is ever negative.

Lines are cut to the window's width, never wrapped, and a screen taller than the window ends with a
line saying how many lines did not fit; resizing the window redraws at once. With NO_COLOR set (or
TERM=dumb) nothing is colored. The metrics of a gRPC host are scraped over HTTP/2 (h2c), as its
port speaks nothing else. When /metrics does not answer, the screen says why and the rest goes on.

Watch-ServingHost needs a terminal: when its output or input is redirected (a script's output
captured, a log, a CI job) it stops with the error WatchRequiresTerminal before drawing anything.
Scripts use Get-ServingHost (Uptime, JobId, Workers, Runners) and the hosts' /metrics instead.
'@
    Parameters  = @{
        Name            = 'Names of the hosts to watch; wildcards are allowed. Every host of the session when omitted. A name without wildcards that matches nothing is an error (HostNotFound).'
        Id              = 'Ids of the hosts to watch.'
        InputObject     = 'Hosts from Get-ServingHost, or jobs from Start-ServingHost. Accepts pipeline input.'
        RefreshInterval = 'Seconds between refreshes, from 0.2 to 3600. Default 1. Rates, error shares and latencies are over this interval.'
    }
    Defaults    = @{
        Name            = @{ Text = 'Every host of this session' }
        RefreshInterval = 1
    }
    Inputs      = @{
        'PSObject[]' = 'Hosts (HostInfo from Get-ServingHost) or the jobs Start-ServingHost returned (ServingHostJob), bound to -InputObject.'
    }
    Outputs     = @{
        None = 'Nothing: the view is drawn on the console until q or Ctrl+C.'
    }
    Examples    = @(
        @{ Code = 'Watch-ServingHost'; Remarks = 'Watches every host of this session until q or Ctrl+C.' }
        @{ Code = '$h = Start-ServingHost -ApiWorkers 4; $h | Watch-ServingHost -RefreshInterval 2'; Remarks = 'Starts a host and watches it, refreshing every 2 seconds; q leaves the view and the host keeps serving.' }
    )
}
