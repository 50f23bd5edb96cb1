namespace Serving.Tools.TrainIris;

/// <summary>Correct predictions out of a total, with the confusion matrix [actual, predicted].</summary>
public sealed class EvaluationResult
{
    public EvaluationResult(int classCount) => Confusion = new int[classCount, classCount];

    public int Correct { get; private set; }
    public int Total { get; private set; }
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;

    /// <summary>Counts indexed [actual class, predicted class].</summary>
    public int[,] Confusion { get; }

    public void Add(int actual, int predicted)
    {
        Confusion[actual, predicted]++;
        Total++;
        if (actual == predicted)
        {
            Correct++;
        }
    }
}

public static class Evaluation
{
    /// <summary>Scores <paramref name="model"/> on every row of <paramref name="data"/>.</summary>
    public static EvaluationResult Evaluate(SoftmaxModel model, IrisDataset data, EvaluationResult? into = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        into ??= new EvaluationResult(model.ClassCount);
        Span<double> p = stackalloc double[model.ClassCount];
        for (int i = 0; i < data.Count; i++)
        {
            into.Add(data.Labels[i], model.Predict(data.Features[i], p));
        }
        return into;
    }

    /// <summary>
    /// Deterministic k-fold cross-validation: row <c>i</c> belongs to fold <c>i mod k</c> (iris.csv is
    /// sorted by species, so with k = 5 every fold holds 10 rows of each class). Each fold is scored
    /// by a model trained, standardisation included, on the other folds only. k = row count is
    /// leave-one-out.
    /// </summary>
    public static EvaluationResult CrossValidate(IrisDataset data, int folds, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(folds, data.Count);
        var result = new EvaluationResult(IrisDataset.ClassNames.Count);
        for (int fold = 0; fold < folds; fold++)
        {
            int current = fold;
            IrisDataset train = data.Subset(i => i % folds == current, invert: true);
            IrisDataset test = data.Subset(i => i % folds == current);
            Evaluate(SoftmaxTrainer.Train(train, options), test, result);
        }
        return result;
    }
}
