using System.Globalization;
using System.Text.Json;
using Serving.Abstractions;

namespace Serving.Demo;

/// <summary>
/// Classifies iris flowers with <see cref="IrisModel"/>.
/// <c>{"features":[5.1,3.5,1.4,0.2]}</c> → <c>{"label":"setosa","probabilities":[…]}</c>;
/// <c>{"instances":[[…],[…]]}</c> → an array of such objects, in request order.
/// </summary>
public sealed class IrisClassifierRunner : Runner
{
    /// <summary>Most rows one <c>instances</c> request may carry.</summary>
    public const int MaxInstances = 10_000;

    /// <summary>Source-generated metadata: no reflection on the hot path.</summary>
    public override JsonSerializerOptions JsonOptions => IrisJsonContext.Default.Options;

    public override ValueTask InitializeAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Log(string.Create(CultureInfo.InvariantCulture,
            $"iris softmax classifier loaded: training accuracy {IrisModel.TrainingAccuracy:F4}, cross-validated {IrisModel.CrossValidatedAccuracy:F4}"));
        return ValueTask.CompletedTask;
    }

    [RunnerMethod("classify")]
    public IrisResponse Classify(IrisRequest? request)
    {
        if (request is null)
        {
            throw new RunnerInputException(
                "invalid input in $: expected an object with 'features' (4 numbers) or 'instances' (an array of 4-number arrays), got null");
        }

        double[]? features = request.Features;
        double[][]? instances = request.Instances;
        if (features is not null && instances is not null)
        {
            throw new RunnerInputException("invalid input in $: give either 'features' or 'instances', not both");
        }
        if (features is not null)
        {
            Validate(features, "features");
            return IrisResponse.Single(Predict(features));
        }
        if (instances is null)
        {
            throw new RunnerInputException(
                "invalid input in $: missing 'features' (4 numbers: sepal_length, sepal_width, petal_length, petal_width) or 'instances' (an array of such arrays)");
        }
        if (instances.Length == 0)
        {
            throw new RunnerInputException("invalid input in $.instances: expected one row or more, got an empty array");
        }
        if (instances.Length > MaxInstances)
        {
            throw new RunnerInputException(string.Create(CultureInfo.InvariantCulture,
                $"invalid input in $.instances: expected {MaxInstances} rows or fewer per request, got {instances.Length}"));
        }

        for (int i = 0; i < instances.Length; i++)
        {
            Validate(instances[i], i);
        }
        var predictions = new IrisPrediction[instances.Length];
        for (int i = 0; i < instances.Length; i++)
        {
            predictions[i] = Predict(instances[i]);
        }
        return IrisResponse.Batch(predictions);
    }

    private static IrisPrediction Predict(double[] features)
    {
        var probabilities = new double[IrisModel.ClassCount];
        int label = IrisModel.Predict(features, probabilities);
        return new IrisPrediction(IrisModel.Labels[label], probabilities);
    }

    private static void Validate(double[]? row, int index)
    {
        // The name is only built on the error path.
        if (row is null || row.Length != IrisModel.FeatureCount || !AllFinite(row))
        {
            Validate(row, string.Create(CultureInfo.InvariantCulture, $"instances[{index}]"));
        }
    }

    private static void Validate(double[]? row, string name)
    {
        if (row is null)
        {
            throw new RunnerInputException($"invalid input in $.{name}: expected an array of {IrisModel.FeatureCount} numbers, got null");
        }
        if (row.Length != IrisModel.FeatureCount)
        {
            throw new RunnerInputException(string.Create(CultureInfo.InvariantCulture,
                $"invalid input in $.{name}: expected exactly {IrisModel.FeatureCount} numbers (sepal_length, sepal_width, petal_length, petal_width), got {row.Length}"));
        }
        for (int j = 0; j < row.Length; j++)
        {
            if (!double.IsFinite(row[j]))
            {
                throw new RunnerInputException(string.Create(CultureInfo.InvariantCulture,
                    $"invalid input in $.{name}[{j}]: expected a finite number"));
            }
        }
    }

    private static bool AllFinite(double[] row)
    {
        for (int j = 0; j < row.Length; j++)
        {
            if (!double.IsFinite(row[j]))
            {
                return false;
            }
        }
        return true;
    }
}
