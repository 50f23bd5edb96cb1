# The demo service: an echo runner (measures the host's own overhead) and an iris classifier
# (softmax regression trained by tools/TrainIris). The build stages Serving.Demo.dll next to this file.
#   POST /echo      any bytes                          -> the same bytes
#   POST /classify  {"features":[5.1,3.5,1.4,0.2]}     -> {"label":"setosa","probabilities":[...]}
#                   (or the four numbers alone)
#                   {"instances":[[...],[...]]}        -> [{"label":...,"probabilities":[...]}, ...]
#                   classify is batchable: concurrent requests are classified together.
@{
    Name       = 'demo'
    Assemblies = @('Serving.Demo.dll')
    Runners    = @(
        @{ Name = 'echo';       Type = 'Serving.Demo.EchoRunner';           Workers = 1 }
        @{ Name = 'classifier'; Type = 'Serving.Demo.IrisClassifierRunner'; Workers = 1 }
    )
    Apis       = @(
        @{ Route = '/echo';     Runner = 'echo';       Method = 'echo';     Input = 'Bytes'; Output = 'Bytes' }
        @{ Route = '/classify'; Runner = 'classifier'; Method = 'classify'; Input = 'Json';  Output = 'Json' }
    )
}
