using Serving.Tools.TrainIris;

namespace Serving.Demo.Tests;

/// <summary>Finds <c>data/iris.csv</c> by walking up from the test's output directory to the repo root.</summary>
internal static class RepoData
{
    private static readonly Lazy<string> s_root = new(FindRoot);
    private static readonly Lazy<IrisDataset> s_iris = new(() => IrisDataset.Load(IrisCsvPath));

    public static string Root => s_root.Value;

    public static string IrisCsvPath => Path.Combine(Root, "data", "iris.csv");

    public static IrisDataset Iris => s_iris.Value;

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "data", "iris.csv")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No data/iris.csv above {AppContext.BaseDirectory}.");
    }
}
