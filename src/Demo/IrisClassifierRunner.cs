using System.Globalization;
using System.Text.Json;
using Serving.Abstractions;

namespace Serving.Demo;

/// <summary>
/// Classifies iris flowers with <see cref="IrisModel"/>, a batch at a time.
/// <c>{"features":[5.1,3.5,1.4,0.2]}</c> (or the four numbers alone) → <c>{"label":"setosa","probabilities":[…]}</c>;
/// <c>{"instances":[[…],[…]]}</c> → an array of such objects, in request order (the host splits the
/// rows into items, batches them with other requests' and joins the answers).
/// </summary>
public sealed class IrisClassifierRunner : Runner
{
    /// <summary>Source-generated metadata: no reflection on the hot path.</summary>
    public override JsonSerializerOptions JsonOptions => IrisJsonContext.Default.Options;

    public override ValueTask InitializeAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Log(string.Create(CultureInfo.InvariantCulture,
            $"iris softmax classifier loaded: training accuracy {IrisModel.TrainingAccuracy:F4}, cross-validated {IrisModel.CrossValidatedAccuracy:F4}"));
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// One prediction per request, in order, computed in one pass over the whole batch
    /// (<see cref="IrisModel.PredictBatch"/>). The host has checked each request as it read it
    /// (<see cref="IrisRequestConverter"/>); a request built in code is checked here, and one that does
    /// not fit fails the call (the host then runs the requests alone, so only that one fails).
    /// </summary>
    [RunnerMethod("classify", Batchable = true, MaxBatchSize = 64, MaxLatencyMs = 10)]
    public IrisPrediction[] Classify(IReadOnlyList<IrisRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        int rows = requests.Count;
        var features = new double[rows * IrisModel.FeatureCount];
        for (int r = 0; r < rows; r++)
        {
            double[] row = Validate(requests[r]);
            row.CopyTo(features, r * IrisModel.FeatureCount);
        }

        var probabilities = new double[rows * IrisModel.ClassCount];
        var labels = new int[rows];
        IrisModel.PredictBatch(features, probabilities, labels);

        var predictions = new IrisPrediction[rows];
        for (int r = 0; r < rows; r++)
        {
            predictions[r] = new IrisPrediction(IrisModel.Labels[labels[r]],
                probabilities.AsSpan(r * IrisModel.ClassCount, IrisModel.ClassCount).ToArray());
        }
        return predictions;
    }

    private static double[] Validate(IrisRequest? request)
    {
        if (request is null)
        {
            throw new RunnerInputException(
                "invalid input in $: expected an object with 'features' (4 numbers) or an array of 4 numbers, got null");
        }
        double[]? row = request.Features;
        if (row is null)
        {
            throw new RunnerInputException(
                "invalid input in $: missing 'features' (4 numbers: sepal_length, sepal_width, petal_length, petal_width)");
        }
        if (row.Length != IrisModel.FeatureCount)
        {
            throw new RunnerInputException(string.Create(CultureInfo.InvariantCulture,
                $"invalid input in $.features: expected exactly {IrisModel.FeatureCount} numbers (sepal_length, sepal_width, petal_length, petal_width), got {row.Length}"));
        }
        for (int j = 0; j < row.Length; j++)
        {
            if (!double.IsFinite(row[j]))
            {
                throw new RunnerInputException(string.Create(CultureInfo.InvariantCulture,
                    $"invalid input in $.features[{j}]: expected a finite number"));
            }
        }
        return row;
    }
}
