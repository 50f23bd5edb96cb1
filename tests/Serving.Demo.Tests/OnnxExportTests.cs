using Serving.Tools.TrainIris;

namespace Serving.Demo.Tests;

public sealed class OnnxExportTests
{
    [Fact]
    public void Training_reproduces_the_committed_onnx_model_byte_for_byte()
    {
        // module/demo/iris.onnx is what `build.ps1 -Task Train` writes: regenerate it when the weights change.
        SoftmaxModel model = SoftmaxTrainer.Train(RepoData.Iris, TrainerOptions.Default);
        byte[] committed = File.ReadAllBytes(Path.Combine(RepoData.Root, "module", "demo", "iris.onnx"));
        Assert.Equal(committed, OnnxModelWriter.Render(model));
    }
}
