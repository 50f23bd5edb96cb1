using Serving.Tools.TrainIris;

namespace Serving.Demo.Tests;

public sealed class TrainingTests
{
    private const double Tolerance = 1e-9;

    [Fact]
    public void Training_reproduces_the_committed_weights()
    {
        SoftmaxModel model = SoftmaxTrainer.Train(RepoData.Iris, TrainerOptions.Default);

        AssertClose(IrisModel.FeatureMeans, model.Means);
        AssertClose(IrisModel.FeatureStdDevs, model.StdDevs);
        AssertClose(IrisModel.Weights, model.Weights);
        AssertClose(IrisModel.Biases, model.Biases);

        EvaluationResult training = Evaluation.Evaluate(model, RepoData.Iris);
        Assert.Equal(IrisModel.TrainingAccuracy, training.Accuracy, 1e-12);
    }

    [Fact]
    public void Cross_validated_accuracy_matches_the_committed_figure()
    {
        EvaluationResult cv = Evaluation.CrossValidate(RepoData.Iris, 5, TrainerOptions.Default);
        Assert.Equal(150, cv.Total);
        Assert.Equal(IrisModel.CrossValidatedAccuracy, cv.Accuracy, 1e-12);
        Assert.True(cv.Accuracy >= 0.9, $"5-fold accuracy {cv.Accuracy}");
    }

    [Fact]
    public void Training_is_deterministic()
    {
        SoftmaxModel a = SoftmaxTrainer.Train(RepoData.Iris);
        SoftmaxModel b = SoftmaxTrainer.Train(RepoData.Iris);
        Assert.Equal(a.Weights, b.Weights);
        Assert.Equal(a.Biases, b.Biases);
    }

    [Fact]
    public void Committed_file_says_how_to_regenerate_it()
    {
        string text = File.ReadAllText(Path.Combine(RepoData.Root, "src", "Demo", "IrisModel.Weights.g.cs"));
        Assert.Contains(WeightsFileWriter.RegenerateCommand, text);
        Assert.Contains("Training accuracy: ", text);
        Assert.DoesNotContain('\r', text);
    }

    [Fact]
    public void Trainer_model_and_IrisModel_agree_on_every_row()
    {
        SoftmaxModel model = SoftmaxTrainer.Train(RepoData.Iris);
        Span<double> expected = stackalloc double[3];
        Span<double> actual = stackalloc double[3];
        foreach (double[] row in RepoData.Iris.Features)
        {
            Assert.Equal(model.Predict(row, expected), IrisModel.Predict(row, actual));
            AssertClose(expected, actual);
        }
    }

    private static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance,
                $"[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }
}
