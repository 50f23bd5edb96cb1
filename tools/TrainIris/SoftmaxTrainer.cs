namespace Serving.Tools.TrainIris;

/// <summary>Hyper-parameters of <see cref="SoftmaxTrainer"/>. The defaults produce the committed weights.</summary>
public sealed record TrainerOptions
{
    /// <summary>Step size of full-batch gradient descent.</summary>
    public double LearningRate { get; init; } = 0.5;

    /// <summary>Number of full-batch gradient steps.</summary>
    public int Iterations { get; init; } = 5000;

    /// <summary>L2 penalty <c>(λ/2)·‖W‖²</c> on the weights (not the biases).</summary>
    public double L2 { get; init; } = 1e-3;

    public static TrainerOptions Default { get; } = new();
}

/// <summary>
/// A multinomial softmax regression: features are standardised with <see cref="Means"/> and
/// <see cref="StdDevs"/>, then <c>logit_k = Biases[k] + Σ_j Weights[k·F + j]·x_j</c>.
/// </summary>
public sealed class SoftmaxModel
{
    public SoftmaxModel(double[] means, double[] stdDevs, double[] weights, double[] biases)
    {
        Means = means;
        StdDevs = stdDevs;
        Weights = weights;
        Biases = biases;
    }

    public int FeatureCount => Means.Length;
    public int ClassCount => Biases.Length;
    public double[] Means { get; }
    public double[] StdDevs { get; }

    /// <summary>Row-major [class, feature].</summary>
    public double[] Weights { get; }

    public double[] Biases { get; }

    /// <summary>Fills <paramref name="probabilities"/> and returns the most probable class (the first on a tie).</summary>
    /// <remarks>Same arithmetic, in the same order, as <c>Serving.Demo.IrisModel.Predict</c>.</remarks>
    public int Predict(ReadOnlySpan<double> features, Span<double> probabilities)
    {
        int f = FeatureCount;
        Span<double> x = stackalloc double[f];
        for (int j = 0; j < f; j++)
        {
            x[j] = (features[j] - Means[j]) / StdDevs[j];
        }
        return SoftmaxTrainer.Softmax(x, Weights, Biases, probabilities);
    }
}

/// <summary>
/// Deterministic trainer: standardise the features (population mean and standard deviation), start
/// from zero weights, and take a fixed number of full-batch gradient-descent steps on the mean
/// cross-entropy plus an L2 penalty. No randomness, no parallelism: the same data and options give
/// the same bits on the same platform.
/// </summary>
public static class SoftmaxTrainer
{
    public static SoftmaxModel Train(IrisDataset data, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= TrainerOptions.Default;
        if (data.Count == 0)
        {
            throw new ArgumentException("Cannot train on an empty data set.", nameof(data));
        }

        int n = data.Count;
        int f = data.Features[0].Length;
        int c = IrisDataset.ClassNames.Count;

        // Standardisation parameters (part of the model).
        var means = new double[f];
        var stds = new double[f];
        for (int j = 0; j < f; j++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += data.Features[i][j];
            }
            means[j] = sum / n;
            double ss = 0;
            for (int i = 0; i < n; i++)
            {
                double d = data.Features[i][j] - means[j];
                ss += d * d;
            }
            double std = Math.Sqrt(ss / n);
            stds[j] = std > 0 ? std : 1.0;
        }

        var x = new double[n * f];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < f; j++)
            {
                x[i * f + j] = (data.Features[i][j] - means[j]) / stds[j];
            }
        }

        var w = new double[c * f];
        var b = new double[c];
        var gw = new double[c * f];
        var gb = new double[c];
        var p = new double[c];
        double lr = options.LearningRate;
        double l2 = options.L2;

        for (int iter = 0; iter < options.Iterations; iter++)
        {
            Array.Clear(gw);
            Array.Clear(gb);
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<double> xi = x.AsSpan(i * f, f);
                Softmax(xi, w, b, p);
                int y = data.Labels[i];
                for (int k = 0; k < c; k++)
                {
                    double err = p[k] - (k == y ? 1.0 : 0.0);
                    gb[k] += err;
                    for (int j = 0; j < f; j++)
                    {
                        gw[k * f + j] += err * xi[j];
                    }
                }
            }
            for (int k = 0; k < c; k++)
            {
                b[k] -= lr * (gb[k] / n);
                for (int j = 0; j < f; j++)
                {
                    int kj = k * f + j;
                    w[kj] -= lr * (gw[kj] / n + l2 * w[kj]);
                }
            }
        }

        return new SoftmaxModel(means, stds, w, b);
    }

    /// <summary>Softmax of the logits for already standardised <paramref name="x"/>; returns the argmax.</summary>
    internal static int Softmax(ReadOnlySpan<double> x, ReadOnlySpan<double> w, ReadOnlySpan<double> b, Span<double> p)
    {
        int f = x.Length;
        int c = b.Length;
        double max = double.NegativeInfinity;
        int best = 0;
        for (int k = 0; k < c; k++)
        {
            double z = b[k];
            for (int j = 0; j < f; j++)
            {
                z += w[k * f + j] * x[j];
            }
            p[k] = z;
            if (z > max)
            {
                max = z;
                best = k;
            }
        }
        double sum = 0;
        for (int k = 0; k < c; k++)
        {
            double e = Math.Exp(p[k] - max);
            p[k] = e;
            sum += e;
        }
        for (int k = 0; k < c; k++)
        {
            p[k] /= sum;
        }
        return best;
    }
}
