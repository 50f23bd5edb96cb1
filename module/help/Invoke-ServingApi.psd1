@{
    Synopsis    = 'Calls an API of a serving host over HTTP, or over gRPC for a gRPC host, and returns its result as objects.'
    Description = @'
Sends one input to one API and writes what it returns. Over HTTP it POSTs to <Url><Route>; for a
gRPC host (Protocol Grpc) it calls serving.v1.Serving/Call over cleartext HTTP/2 with prior
knowledge (h2c), the request and reply framed by the module itself: no gRPC assembly is loaded into
pwsh. Either way the API runs the same runner method with the same bytes.

The input (-Body): a hashtable, PSCustomObject, array or number is converted with ConvertTo-Json
-Depth 100 -Compress and sent as JSON (HTTP Content-Type application/json; gRPC field json); a
string is sent as it is (text/plain; charset=utf-8; gRPC field text), so a JSON text in a string
reaches a JSON API unchanged; a byte array is sent as application/octet-stream (gRPC field data).
No -Body sends an empty input.

The result: JSON (application/json, gRPC field json) is converted with ConvertFrom-Json, an array's
elements written one by one; text is written as a string; bytes as one byte array. -Raw writes
JSON as the string it came as.

The host: -Name or -Id of a host of this session, a host piped in (from Get-ServingHost,
Use-ServingHost or Start-ServingHost), or -Url (with -Protocol Grpc for a gRPC host) for any host.
With none of these, the session's only running host; when several run, a terminating error
(HostAmbiguous) lists them, and when none runs, a terminating error (HostNotFound). The URL used is
the host's Url; its Protocol says whether to speak HTTP or gRPC.

Errors: an answer that is not a success is a non-terminating error whose FullyQualifiedErrorId is
the host's errorId (InvalidJson, InvalidInput, NotFound, RunnerFailed, Overloaded, ...: the HTTP
problem body's errorId, or a gRPC error's x-serving-error-id trailer). Its message names the route,
the host's detail, the errorId, the HTTP status or gRPC status name, and the request id the host's
log line carries; its TargetObject is an ApiProblem (ErrorId, Route, Status, GrpcStatus, Title,
Detail, RequestId, Worker). A host that cannot be reached, no answer within -TimeoutSec, or an error
the host sent without an errorId of its own (e.g. gRPC RESOURCE_EXHAUSTED raised by the framework)
is ApiCallFailed.
'@
    Parameters  = @{
        Route       = 'The API''s route, e.g. /classify; the leading / may be left out. Required; position 0 (the first positional argument). No wildcards.'
        Body        = 'The input; position 1. A hashtable or object is sent as JSON (ConvertTo-Json -Depth 100 -Compress), a string as it is, a byte array as application/octet-stream. Default: none (an empty input).'
        Name        = 'The name of a host of this session (exact). No wildcards. Default: none; with no -Name, -Id, -InputObject or -Url the session''s only running host is called.'
        Id          = 'The Id of a host of this session (Get-ServingHost''s Id, which is also its job''s Id). Default: none.'
        InputObject = 'A host to call: a HostInfo from Get-ServingHost or Use-ServingHost, or the job from Start-ServingHost. Accepts pipeline input (ByValue); each piped host is called once. Default: none.'
        Url         = 'The base URL of any Serving host, e.g. http://127.0.0.1:3000 (a host of another session or machine). Default: none.'
        Protocol    = 'With -Url: Http (POST <Url><Route>) or Grpc (serving.v1.Serving/Call over h2c). Default Http. A named or piped host''s own Protocol is used otherwise.'
        TimeoutSec  = 'Seconds to wait for the answer; over gRPC it is also sent as the call''s deadline (grpc-timeout), so the runner method''s CancellationToken fires with it. Default 100. No answer in time is the error ApiCallFailed.'
        Raw         = 'Write the result as it came: JSON and text as one string, bytes as a byte array. Default: off (JSON is converted to objects).'
    }
    Defaults    = @{
        Body       = @{ Text = 'none: an empty body' }
        Protocol   = 'Http'
        TimeoutSec = 100
    }
    Inputs      = @{
        PSObject = 'A host from Get-ServingHost or Use-ServingHost (HostInfo), or the job Start-ServingHost returned (ServingHostJob), bound to -InputObject.'
    }
    Outputs     = @{
        PSObject = 'A JSON result, converted by ConvertFrom-Json (an array''s elements one by one).'
        String   = 'A text result, or a JSON result with -Raw.'
        'Byte[]' = 'A bytes result.'
    }
    Examples    = @(
        @{ Code = 'Start-ServingHost; Invoke-ServingApi /classify @{ features = 5.1, 3.5, 1.4, 0.2 }'; Remarks = 'Classifies one flower with the session''s only host (the demo service): writes an object with its label and probabilities.' }
        @{ Code = @'
$h = Start-ServingHost -Protocol Grpc -Port 50051 -Name grpc
$h | Invoke-ServingApi -Route /classify -Body @{ features = 5.1, 3.5, 1.4, 0.2 }
'@; Remarks = 'The same call to a gRPC host: serving.v1.Serving/Call over h2c, no gRPC assembly loaded.' }
        @{ Code = @'
Invoke-ServingApi -Name demo -Route /classify -Body @{ features = 1 } -ErrorAction SilentlyContinue -ErrorVariable e
$e[0].FullyQualifiedErrorId   # InvalidInput,Serving.Cmdlets.InvokeServingApiCommand
$e[0].TargetObject.RequestId  # the id to look for in Get-ServingLog
'@; Remarks = 'A bad input is an error record carrying the host''s errorId and request id.' }
        @{ Code = 'Invoke-ServingApi -Url http://10.0.0.5:3000 -Route /echo -Body ([byte[]](1,2,3))'; Remarks = 'Calls a host of another machine with a binary input.' }
    )
}
