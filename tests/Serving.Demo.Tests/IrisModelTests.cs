namespace Serving.Demo.Tests;

public sealed class IrisModelTests
{
    [Theory]
    [InlineData(5.1, 3.5, 1.4, 0.2, "setosa")]      // iris.csv row 1
    [InlineData(4.6, 3.1, 1.5, 0.2, "setosa")]      // row 4
    [InlineData(7.0, 3.2, 4.7, 1.4, "versicolor")]  // row 51
    [InlineData(5.7, 2.8, 4.1, 1.3, "versicolor")]  // row 100
    [InlineData(6.3, 3.3, 6.0, 2.5, "virginica")]   // row 101
    [InlineData(5.9, 3.0, 5.1, 1.8, "virginica")]   // row 150
    public void Sample_rows_classify_correctly(double sl, double sw, double pl, double pw, string expected)
    {
        Span<double> p = stackalloc double[IrisModel.ClassCount];
        int label = IrisModel.Predict([sl, sw, pl, pw], p);

        Assert.Equal(expected, IrisModel.Labels[label]);
        for (int k = 0; k < p.Length; k++)
        {
            Assert.True(p[label] >= p[k]);
        }
        Assert.True(p[label] > 0.5, $"p({expected}) = {p[label]}");
    }

    [Fact]
    public void Labels_and_features_are_in_csv_order()
    {
        Assert.Equal(["setosa", "versicolor", "virginica"], IrisModel.Labels);
        Assert.Equal(["sepal_length", "sepal_width", "petal_length", "petal_width"], IrisModel.FeatureNames);
        Assert.Equal(IrisModel.FeatureCount, IrisModel.FeatureMeans.Length);
        Assert.Equal(IrisModel.FeatureCount, IrisModel.FeatureStdDevs.Length);
        Assert.Equal(IrisModel.ClassCount * IrisModel.FeatureCount, IrisModel.Weights.Length);
        Assert.Equal(IrisModel.ClassCount, IrisModel.Biases.Length);
    }

    [Fact]
    public void Probabilities_are_a_distribution_for_every_row()
    {
        Span<double> p = stackalloc double[IrisModel.ClassCount];
        foreach (double[] row in RepoData.Iris.Features)
        {
            IrisModel.Predict(row, p);
            double sum = 0;
            foreach (double v in p)
            {
                Assert.InRange(v, 0.0, 1.0);
                sum += v;
            }
            Assert.Equal(1.0, sum, 1e-12);
        }
    }

    [Fact]
    public void Extreme_inputs_still_give_a_distribution()
    {
        Span<double> p = stackalloc double[IrisModel.ClassCount];
        IrisModel.Predict([1e6, -1e6, 1e6, 1e6], p);
        Assert.Equal(1.0, p[0] + p[1] + p[2], 1e-12);
        Assert.All(p.ToArray(), v => Assert.False(double.IsNaN(v)));
    }

    public static TheoryData<double, double, double, double> FiniteExtremes => new()
    {
        { 1e308, 1e308, 1e308, 1e308 },
        { -1e308, -1e308, -1e308, -1e308 },
        { 1e308, -1e308, 1e308, -1e308 },
        { -1e308, 1e308, -1e308, 1e308 },
        { double.MaxValue, double.MaxValue, double.MaxValue, double.MaxValue },
        { double.MinValue, double.MaxValue, 0, 0 },
        { 1e308, 0, 0, 0 },
        { 0, 0, 0, -1e308 },
        { 1e200, 5.0, 1.4, 0.2 },
        { 1e151, 1e150, -1e149, 3 },
        { 1e150, 1e150, 1e150, 1e150 },
        { 1e6, -1e6, 1e6, 1e6 },
        { -5.1, -3.5, -1.4, -0.2 },
        { -1000, -1000, -1000, -1000 },
        { 0, 0, 0, 0 },
        { double.Epsilon, double.Epsilon, double.Epsilon, double.Epsilon },
        { 1e-308, -1e-308, 2.2250738585072014e-308, -double.Epsilon },
        { 5.1, 3.5, 1.4, 1e-300 },
    };

    [Theory]
    [MemberData(nameof(FiniteExtremes))]
    public void Any_finite_input_gives_finite_probabilities_summing_to_1(double a, double b, double c, double d)
    {
        Span<double> p = stackalloc double[IrisModel.ClassCount];
        int label = IrisModel.Predict([a, b, c, d], p);

        double sum = 0;
        for (int k = 0; k < p.Length; k++)
        {
            Assert.True(double.IsFinite(p[k]), $"p[{k}] = {p[k]}");
            Assert.InRange(p[k], 0.0, 1.0);
            Assert.True(p[label] >= p[k]);
            sum += p[k];
        }
        Assert.Equal(1.0, sum, 1e-12);
    }

    [Fact]
    public void Huge_inputs_give_the_limit_of_the_softmax()
    {
        // As the features grow along one direction, the softmax tends to the class whose logit grows
        // fastest: the same label at 1e10 (computed directly) and at 1e308 (computed scaled).
        Span<double> direct = stackalloc double[IrisModel.ClassCount];
        Span<double> scaled = stackalloc double[IrisModel.ClassCount];
        foreach (double[] direction in new[] { new[] { 1.0, 1, 1, 1 }, [-1.0, -1, -1, -1], [1.0, -1, 1, -1], [0.3, 0.2, -0.9, 0.1] })
        {
            int near = IrisModel.Predict([direction[0] * 1e10, direction[1] * 1e10, direction[2] * 1e10, direction[3] * 1e10], direct);
            int far = IrisModel.Predict([direction[0] * 1e308, direction[1] * 1e308, direction[2] * 1e308, direction[3] * 1e308], scaled);
            Assert.Equal(near, far);
            Assert.Equal(1.0, scaled[far], 1e-12);
            for (int k = 0; k < IrisModel.ClassCount; k++)
            {
                Assert.Equal(direct[k], scaled[k], 1e-9);
            }
        }
    }

    [Fact]
    public void Scaling_starts_without_a_jump()
    {
        // Just below and just above the point where the logits start to be computed scaled.
        Span<double> below = stackalloc double[IrisModel.ClassCount];
        Span<double> above = stackalloc double[IrisModel.ClassCount];
        int a = IrisModel.Predict([1e150, 2, 1e149, -3], below);
        int b = IrisModel.Predict([1.0000000001e150, 2, 1e149, -3], above);
        Assert.Equal(a, b);
        for (int k = 0; k < IrisModel.ClassCount; k++)
        {
            Assert.Equal(below[k], above[k], 1e-9);
        }
    }

    [Fact]
    public void Training_accuracy_of_committed_weights_is_at_least_95_percent()
    {
        var data = RepoData.Iris;
        Assert.Equal(150, data.Count);
        Span<double> p = stackalloc double[IrisModel.ClassCount];
        int correct = 0;
        for (int i = 0; i < data.Count; i++)
        {
            if (IrisModel.Predict(data.Features[i], p) == data.Labels[i])
            {
                correct++;
            }
        }
        double accuracy = (double)correct / data.Count;

        Assert.True(accuracy >= 0.95, $"training accuracy {accuracy}");
        Assert.Equal(IrisModel.TrainingAccuracy, accuracy, 1e-12);
    }

    [Fact]
    public void Wrong_span_lengths_are_rejected()
    {
        var p = new double[IrisModel.ClassCount];
        Assert.Throws<ArgumentException>(() => IrisModel.Predict([1, 2, 3], p));
        Assert.Throws<ArgumentException>(() => IrisModel.Predict([1, 2, 3, 4, 5], p));
        Assert.Throws<ArgumentException>(() => IrisModel.Predict([1, 2, 3, 4], new double[2]));
    }

    [Fact]
    public void PredictBatch_gives_every_row_of_the_data_what_Predict_gives_it()
    {
        // Every row count up to 150 (the vectorised loop's tail included), bit for bit.
        var data = RepoData.Iris;
        var all = data.Features.SelectMany(r => r).ToArray();
        foreach (int rows in new[] { 1, 2, 3, 7, 8, 9, 31, 150 })
        {
            var probabilities = new double[rows * IrisModel.ClassCount];
            var labels = new int[rows];
            IrisModel.PredictBatch(all.AsSpan(0, rows * IrisModel.FeatureCount), probabilities, labels);
            var expected = new double[IrisModel.ClassCount];
            for (int r = 0; r < rows; r++)
            {
                Assert.Equal(IrisModel.Predict(data.Features[r], expected), labels[r]);
                Assert.Equal(expected, probabilities.AsSpan(r * IrisModel.ClassCount, IrisModel.ClassCount).ToArray());
            }
        }
    }

    [Fact]
    public void PredictBatch_checks_its_spans()
    {
        IrisModel.PredictBatch([], [], []);
        Assert.Throws<ArgumentException>(() => IrisModel.PredictBatch(new double[7], new double[6], new int[2]));
        Assert.Throws<ArgumentException>(() => IrisModel.PredictBatch(new double[8], new double[5], new int[2]));
    }
}
