using System.Globalization;
using Serving.Tools.TrainIris;

// Usage: dotnet run --project tools/TrainIris -- --data data/iris.csv --out src/Demo/IrisModel.Weights.g.cs [--onnx module/demo/iris.onnx] [--loo]
string? dataPath = null;
string? outPath = null;
string? onnxPath = null;
bool leaveOneOut = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--data" when i + 1 < args.Length:
            dataPath = args[++i];
            break;
        case "--out" when i + 1 < args.Length:
            outPath = args[++i];
            break;
        case "--onnx" when i + 1 < args.Length:
            onnxPath = args[++i];
            break;
        case "--loo":
            leaveOneOut = true;
            break;
        default:
            Console.Error.WriteLine($"Unexpected argument '{args[i]}'.");
            Console.Error.WriteLine("Usage: TrainIris --data <iris.csv> [--out <IrisModel.Weights.g.cs>] [--onnx <iris.onnx>] [--loo]");
            return 2;
    }
}
if (dataPath is null)
{
    Console.Error.WriteLine("Usage: TrainIris --data <iris.csv> [--out <IrisModel.Weights.g.cs>] [--onnx <iris.onnx>] [--loo]");
    return 2;
}

const int Folds = 5;
TrainerOptions options = TrainerOptions.Default;
IrisDataset data = IrisDataset.Load(dataPath);
Console.WriteLine(Invariant($"Read {data.Count} rows from {dataPath}."));
Console.WriteLine(Invariant($"Training: learning rate {options.LearningRate}, {options.Iterations} iterations, L2 {options.L2}."));

SoftmaxModel model = SoftmaxTrainer.Train(data, options);
EvaluationResult training = Evaluation.Evaluate(model, data);
Console.WriteLine(Invariant($"Training accuracy: {training.Correct}/{training.Total} = {training.Accuracy:F4}"));
PrintConfusion(training);

EvaluationResult cv = Evaluation.CrossValidate(data, Folds, options);
Console.WriteLine(Invariant($"{Folds}-fold cross-validated accuracy (row i in fold i mod {Folds}): {cv.Correct}/{cv.Total} = {cv.Accuracy:F4}"));
PrintConfusion(cv);

if (leaveOneOut)
{
    EvaluationResult loo = Evaluation.CrossValidate(data, data.Count, options);
    Console.WriteLine(Invariant($"Leave-one-out accuracy: {loo.Correct}/{loo.Total} = {loo.Accuracy:F4}"));
    PrintConfusion(loo);
}

if (outPath is not null)
{
    string text = WeightsFileWriter.Render(model, options, training, cv, Folds);
    bool changed = WeightsFileWriter.Write(outPath, text);
    Console.WriteLine(changed ? $"Wrote {outPath}." : $"{outPath} is already up to date.");
}
if (onnxPath is not null)
{
    // The same weights as an ONNX model, for the demo's no-code ONNX runner (module/demo/DemoOnnx.psd1).
    bool changed = OnnxModelWriter.Write(onnxPath, OnnxModelWriter.Render(model));
    Console.WriteLine(changed ? $"Wrote {onnxPath}." : $"{onnxPath} is already up to date.");
}
return 0;

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

static void PrintConfusion(EvaluationResult result)
{
    IReadOnlyList<string> names = IrisDataset.ClassNames;
    Console.WriteLine("  confusion (rows: actual, columns: predicted)");
    Console.Write("  {0,-12}", "");
    foreach (string name in names)
    {
        Console.Write("{0,11}", name);
    }
    Console.WriteLine();
    for (int a = 0; a < names.Count; a++)
    {
        Console.Write("  {0,-12}", names[a]);
        for (int p = 0; p < names.Count; p++)
        {
            Console.Write("{0,11}", result.Confusion[a, p]);
        }
        Console.WriteLine();
    }
}
