@{
    Synopsis    = 'Gets the log lines of serving hosts: every worker''s lines and the supervisor''s, merged in time order, without taking them from the job.'
    Description = @'
Each host keeps its latest 10,000 log lines - of all its workers and the supervisor's notes about them,
together - in the order they arrived; older lines are dropped. Get-ServingLog reads them without taking
them away: Receive-Job on the host's job still gives the same lines once, as before, and Get-ServingLog
gives them again every time. Lines below the host's -LogLevel were never kept.

The lines of the selected hosts are written in time order (a JSON line's own timestamp, else when the
supervisor read the line), after -Worker and -Level filtered them and -Tail took the last ones. Each is
a WorkerLogEntry: Time, Level, Worker, Message, and Host, Pid, Stream, Event, Exception and Fields.
A line starting with whitespace (an exception's stack in -LogFormat Text) continues the line above it
and has its level. With -Follow, lines that arrive later are written as they arrive, until Ctrl+C or
until every selected host has ended (its last lines are written first); should more lines arrive
between two reads than a host keeps, a warning says how many were not shown.

Without -Name, -Id or -InputObject: every host of this session.
'@
    Parameters  = @{
        Name        = 'Names of the hosts whose lines to get; wildcards are allowed. Every host of this session when omitted.'
        Id          = 'Ids of the hosts whose lines to get.'
        InputObject = 'Hosts from Get-ServingHost, or jobs from Start-ServingHost. Accepts pipeline input.'
        Tail        = 'Only the last N lines (of those -Worker and -Level select).'
        Follow      = 'After the lines kept so far, write new lines as they arrive, until Ctrl+C or until every selected host has ended.'
        Worker      = 'Only lines of the workers with these names (api-1, echo-2, reloader); wildcards are allowed (echo-*).'
        Level       = 'Only lines at this level or above: Trace, Debug, Information, Warning, Error or Critical. Default: every line.'
    }
    Defaults    = @{
        Name   = @{ Text = 'Every host of this session' }
        Tail   = @{ Text = 'Every line kept (the latest 10,000)' }
        Worker = @{ Text = 'Every worker, and the supervisor''s lines' }
        Level  = 'Trace'
    }
    Inputs      = @{
        'PSObject[]' = 'Hosts (HostInfo from Get-ServingHost) or the jobs Start-ServingHost returned (ServingHostJob), bound to -InputObject.'
    }
    Outputs     = @{
        WorkerLogEntry = 'One log line: Time, Level, Worker, Message, and Host, Pid, Stream, Event, Exception and Fields.'
    }
    Examples    = @(
        @{ Code = 'Get-ServingLog demo -Tail 20'; Remarks = 'The last 20 lines of the host named demo, of all its workers, in time order.' }
        @{ Code = 'Get-ServingLog -Level Warning -Worker echo-*'; Remarks = 'Warnings and errors of the echo runner''s workers, in every host of this session.' }
        @{ Code = '$h = Start-ServingHost; Get-ServingLog -InputObject $h -Follow'; Remarks = 'Follows the host''s log as it is written, until Ctrl+C or until the host is stopped.' }
    )
}
