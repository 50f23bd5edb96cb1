# The demo's iris classifier served with no code: the same trained weights as Demo.psd1's classifier,
# exported by tools/TrainIris as iris.onnx (Sub, Div, Gemm, Softmax, ArgMax) and run by OnnxRuntime.
#   POST /classify  {"features":[5.1,3.5,1.4,0.2]}          -> {"probabilities":[...],"label":0}
#                   {"features":[[5.1,3.5,1.4,0.2],[...]]}  -> {"probabilities":[[...],[...]],"label":[0,...]}
#                   [5.1,3.5,1.4,0.2]                        (one input: the bare array is the input)
#   label indexes setosa, versicolor, virginica. The model's batch axis is dynamic, so concurrent
#   requests are stacked into one tensor and run together (at most 64, waiting at most 10 ms).
@{
    Name    = 'demo-onnx'
    Runners = @(
        @{ Name = 'iris'; Onnx = 'iris.onnx'; Workers = 1; IntraOpThreads = 1 }
    )
    Apis    = @(
        @{ Route = '/classify'; Runner = 'iris'; Method = 'predict' }
    )
}
