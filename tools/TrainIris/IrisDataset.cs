using System.Globalization;

namespace Serving.Tools.TrainIris;

/// <summary>The iris data set as read from <c>data/iris.csv</c>: rows of four features and a class index.</summary>
public sealed class IrisDataset
{
    /// <summary>The class names, in the order of the model's outputs.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["setosa", "versicolor", "virginica"];

    /// <summary>The feature columns, in the order of the model's inputs.</summary>
    public static IReadOnlyList<string> FeatureNames { get; } = ["sepal_length", "sepal_width", "petal_length", "petal_width"];

    private const string Header = "sepal_length,sepal_width,petal_length,petal_width,species";

    public IrisDataset(double[][] features, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Length != labels.Length)
        {
            throw new ArgumentException("features and labels must have the same length.", nameof(labels));
        }
        Features = features;
        Labels = labels;
    }

    /// <summary>One array of <see cref="FeatureNames"/>.Count values per row.</summary>
    public double[][] Features { get; }

    /// <summary>The class index (into <see cref="ClassNames"/>) of each row.</summary>
    public int[] Labels { get; }

    public int Count => Labels.Length;

    /// <summary>Reads the CSV: the exact header, then <c>f1,f2,f3,f4,species</c> per line; blank lines are skipped.</summary>
    public static IrisDataset Load(string path)
    {
        string[] lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0].Trim() != Header)
        {
            throw new InvalidDataException($"{path}: expected the header '{Header}'.");
        }

        var features = new List<double[]>(lines.Length);
        var labels = new List<int>(lines.Length);
        for (int i = 1; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }
            string[] cells = line.Split(',');
            if (cells.Length != FeatureNames.Count + 1)
            {
                throw new InvalidDataException($"{path}:{i + 1}: expected {FeatureNames.Count + 1} columns, found {cells.Length}.");
            }
            var row = new double[FeatureNames.Count];
            for (int j = 0; j < row.Length; j++)
            {
                if (!double.TryParse(cells[j], NumberStyles.Float, CultureInfo.InvariantCulture, out row[j]) || !double.IsFinite(row[j]))
                {
                    throw new InvalidDataException($"{path}:{i + 1}: '{cells[j]}' is not a finite number.");
                }
            }
            int label = IndexOfClass(cells[^1].Trim());
            if (label < 0)
            {
                throw new InvalidDataException($"{path}:{i + 1}: unknown species '{cells[^1]}'.");
            }
            features.Add(row);
            labels.Add(label);
        }
        return new IrisDataset([.. features], [.. labels]);
    }

    /// <summary>The rows whose index is (or, with <paramref name="invert"/>, is not) selected.</summary>
    public IrisDataset Subset(Func<int, bool> select, bool invert = false)
    {
        ArgumentNullException.ThrowIfNull(select);
        var features = new List<double[]>();
        var labels = new List<int>();
        for (int i = 0; i < Count; i++)
        {
            if (select(i) != invert)
            {
                features.Add(Features[i]);
                labels.Add(Labels[i]);
            }
        }
        return new IrisDataset([.. features], [.. labels]);
    }

    private static int IndexOfClass(string name)
    {
        for (int k = 0; k < ClassNames.Count; k++)
        {
            if (string.Equals(ClassNames[k], name, StringComparison.Ordinal))
            {
                return k;
            }
        }
        return -1;
    }
}
