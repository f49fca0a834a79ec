// Trains the notes' bias-free BN-DNN or BN-CNN on Fashion-MNIST (or MNIST) and writes metrics.csv,
// model.safetensors and training-curves.svg. Run with --help for the options.
using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using MiniNet;
using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Layers.Onnx;
using MiniNet.Samples;
using MnistBatchNorm;

var model = new Option<string>("--model") { Description = "dnn (BN-DNN) or cnn (BN-CNN)", DefaultValueFactory = _ => "dnn" };
model.AcceptOnlyFromAmong("dnn", "cnn");
var noBn = new Option<bool>("--no-bn") { Description = "the same network without BatchNorm, biases on" };
var activation = new Option<string>("--activation") { Description = "hidden activation of the DNN: relu or sigmoid", DefaultValueFactory = _ => "relu" };
activation.AcceptOnlyFromAmong("relu", "sigmoid");
var hidden = new Option<string>("--hidden") { Description = "hidden layer widths of the DNN, comma-separated", DefaultValueFactory = _ => "512,256" };
var epochs = new Option<int>("--epochs") { Description = "passes over the training set", DefaultValueFactory = _ => 5 };
var batchSize = new Option<int>("--batch-size") { Description = "images per mini-batch", DefaultValueFactory = _ => 64 };
var lr = new Option<float>("--lr") { Description = "SGD learning rate", DefaultValueFactory = _ => 0.05f };
var momentum = new Option<float>("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => 0.9f };
var schedule = new Option<string>("--schedule") { Description = "learning-rate schedule: cosine (to 0 at the last epoch) or constant", DefaultValueFactory = _ => "cosine" };
schedule.AcceptOnlyFromAmong("cosine", "constant");
var seed = new Option<int>("--seed") { Description = "seed of initialisation and shuffling", DefaultValueFactory = _ => 1 };
var dataset = new Option<string>("--dataset") { Description = "fashion (Fashion-MNIST) or mnist", DefaultValueFactory = _ => "fashion" };
dataset.AcceptOnlyFromAmong("fashion", "mnist");
var data = new Option<string?>("--data") { Description = "folder holding the IDX files (default: MININET_DATA, ./data, system folders, download cache)" };
var output = new Option<string?>("--out") { Description = "output folder (default runs/<timestamp>)" };
var limit = new Option<int?>("--limit") { Description = "use only the first N training images" };
var bnStats = new Option<string>("--bn-stats") { Description = "statistics the saved model uses: running (averages) or population (recomputed)", DefaultValueFactory = _ => "running" };
bnStats.AcceptOnlyFromAmong("running", "population");
var compare = new Option<bool>("--compare") { Description = "train with and without BatchNorm and plot both" };
var syncBn = new Option<bool>("--sync-bn") { Description = "under mpirun: BatchNorm over the global batch of all ranks (SyncBatchNorm)" };
var exportOnnx = new Option<bool>("--export-onnx") { Description = "also write the trained model as ONNX (model.onnx, opset 17) for ONNX Runtime" };

var root = new RootCommand("Train the bias-free BN-DNN or BN-CNN on Fashion-MNIST or MNIST with MiniNet.")
{
    model, noBn, activation, hidden, epochs, batchSize, lr, momentum, schedule, seed, dataset, data, output, limit, bnStats, compare, exportOnnx, syncBn,
};
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("Run with --help for the options.");
    return ExitCodes.BadOption;
}
if (parsed.Action is not null)   // --help or --version: the root command has no action of its own
    return parsed.Invoke();

// Under mpirun, one process per rank: rank 0 logs and writes the outputs; every rank trains its shard.
Distributed.Init();
using ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(Distributed.IsMain ? LogLevel.Information : LogLevel.Warning).AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss ";
    // Colours only on an interactive terminal (the console logger already leaves them out when output is redirected).
    if (!EpochProgress.Interactive) o.ColorBehavior = Microsoft.Extensions.Logging.Console.LoggerColorBehavior.Disabled;
}));
ILogger logger = loggerFactory.CreateLogger("MnistBatchNorm");
MiniNetLogging.Logger = loggerFactory.CreateLogger("MiniNet");   // the library's warnings through the same console log
Settings settings;
try
{
    settings = new Settings(
        parsed.GetValue(model)!, !parsed.GetValue(noBn), parsed.GetValue(activation)!, ParseHidden(parsed.GetValue(hidden)!),
        Positive(parsed.GetValue(epochs), "--epochs"), Positive(parsed.GetValue(batchSize), "--batch-size"),
        PositiveFloat(parsed.GetValue(lr), "--lr"), Momentum(parsed.GetValue(momentum)), parsed.GetValue(seed), parsed.GetValue(schedule)!,
        parsed.GetValue(dataset)!, parsed.GetValue(data),
        parsed.GetValue(output) ?? Path.Combine("runs", DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)),
        parsed.GetValue(limit) is { } n ? Positive(n, "--limit") : null, parsed.GetValue(bnStats)!, parsed.GetValue(compare),
        parsed.GetValue(exportOnnx), parsed.GetValue(syncBn));
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return ExitCodes.BadOption;
}

try
{
    if (Distributed.IsMain)
    {
        Directory.CreateDirectory(settings.OutputDirectory);
        File.WriteAllText(Path.Combine(settings.OutputDirectory, ".write-test"), "");
        File.Delete(Path.Combine(settings.OutputDirectory, ".write-test"));
    }
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: cannot write to the output folder '{settings.OutputDirectory}': {e.Message}. Choose another with --out.");
    return ExitCodes.OutputNotWritable;
}

TensorDataset train, test;
try
{
    var options = new DatasetOptions { Directory = settings.DataDirectory, Logger = logger };
    IdxDatasetSpec spec = settings.Dataset == "mnist" ? Mnist.Spec : FashionMnist.Spec;
    train = IdxImageDataset.Load(spec, Split.Train, options);
    test = IdxImageDataset.Load(spec, Split.Test, options);
    if (settings.Limit is { } count) train = train.Take(count);
}
catch (Exception e) when (e is DatasetNotFoundException or InvalidDataException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return ExitCodes.DataMissing;
}
logger.LogInformation("{Dataset}: {Train} training and {Test} test images; output in {Output}",
    settings.Dataset == "mnist" ? "MNIST" : "Fashion-MNIST", train.Count, test.Count, settings.OutputDirectory);

MetricsWriter<EpochMetrics>? metrics = Distributed.IsMain ? new(Path.Combine(settings.OutputDirectory, "metrics.csv")) : null;
if (metrics is not null && File.Exists(metrics.Path)) File.Delete(metrics.Path);
var runs = new List<(Settings Settings, List<EpochMetrics> History)>();
try
{
    foreach (Settings run in settings.Compare ? [settings with { BatchNorm = true }, settings with { BatchNorm = false }] : new[] { settings })
    {
        Rng.ManualSeed(run.Seed);
        Sequential net = run.Model == "cnn" ? Models.Cnn(run.BatchNorm) : Models.Dnn(run.Hidden, run.Activation, run.BatchNorm);
        if (run.SyncBatchNorm && Distributed.WorldSize > 1) net = (Sequential)SyncBatchNorm.Convert(net);
        logger.LogInformation("{Run}: {Parameters:N0} parameters, batch {Batch}{Ranks}, lr {Lr}, momentum {Momentum}",
            run.RunName, net.Parameters().Sum(p => p.Numel), run.BatchSize,
            Distributed.WorldSize > 1 ? $" on each of {Distributed.WorldSize} ranks{(run.SyncBatchNorm ? ", SyncBatchNorm" : "")}" : "", run.Lr, run.Momentum);
        if (Distributed.IsMain) Console.WriteLine(net.Summary([run.BatchSize, .. train.SampleShape]));
        List<EpochMetrics> history = new Trainer(run, logger).Train(net, train, test, metrics);
        runs.Add((run, history));
        if (Distributed.IsMain)
            FinishRun(net, run, train, test, logger, settings.Compare && !run.BatchNorm ? "model-no-bn.safetensors" : "model.safetensors");
    }
}
catch (DivergedException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return ExitCodes.Diverged;
}

if (!Distributed.IsMain) return ExitCodes.Success;
WriteCurves(Path.Combine(settings.OutputDirectory, "training-curves.svg"), runs);
logger.LogInformation("Wrote metrics.csv, model.safetensors and training-curves.svg (and .png) to {Output}", settings.OutputDirectory);
return ExitCodes.Success;

// Reports test accuracy with running and with population statistics, then saves the model with the chosen ones.
static void FinishRun(Sequential net, Settings run, TensorDataset train, TensorDataset test, ILogger logger, string fileName)
{
    Score running = Evaluation.Evaluate(net, test);
    if (run.BatchNorm)
    {
        var saved = net.Buffers().Select(b => b.Clone()).ToList();
        BatchNormStatistics.Recompute(net, new DataLoader(train, run.BatchSize).Select(b => b.X));
        Score population = Evaluation.Evaluate(net, test);
        logger.LogInformation("{Run} test accuracy: {Running:P2} with running averages, {Population:P2} with population statistics",
            run.RunName, running.Accuracy, population.Accuracy);
        if (run.BnStats == "running")
            foreach (var (buffer, copy) in net.Buffers().Zip(saved)) buffer.CopyFrom(copy);
    }
    else
    {
        logger.LogInformation("{Run} test accuracy: {Accuracy:P2}", run.RunName, running.Accuracy);
    }
    net.Eval();
    string path = Path.Combine(run.OutputDirectory, fileName);
    net.Save(path);
    if (run.ExportOnnx)
    {
        // The same weights for ONNX Runtime: one image (1, 28, 28) per sample, a symbolic batch.
        string onnx = Path.ChangeExtension(path, ".onnx");
        net.ExportOnnx(onnx, [.. train.SampleShape]);
        logger.LogInformation("{Run}: wrote {File} (ONNX opset {Opset})", run.RunName, onnx, MiniNet.Layers.Onnx.OnnxExport.Opset);
    }
}

static void WriteCurves(string path, List<(Settings Settings, List<EpochMetrics> History)> runs)
{
    var loss = new LineChart { Title = "Loss", XLabel = "epoch", YLabel = "cross-entropy", IntegerX = true };
    var accuracy = new LineChart { Title = "Accuracy", XLabel = "epoch", YLabel = "accuracy", IntegerX = true };
    foreach (var (run, history) in runs)
    {
        double[] x = history.Select(h => (double)h.Epoch).ToArray();
        loss.Add(new Series($"{run.RunName} train", x, history.Select(h => h.TrainLoss).ToArray()));
        loss.Add(new Series($"{run.RunName} test", x, history.Select(h => h.TestLoss).ToArray(), Dashed: true));
        accuracy.Add(new Series($"{run.RunName} train", x, history.Select(h => h.TrainAccuracy).ToArray()));
        accuracy.Add(new Series($"{run.RunName} test", x, history.Select(h => h.TestAccuracy).ToArray(), Dashed: true));
    }
    LineChart.SaveFigure(path, loss, accuracy);
}

static int[] ParseHidden(string text)
{
    try
    {
        int[] widths = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        if (widths.Length == 0 || widths.Any(w => w <= 0)) throw new FormatException();
        return widths;
    }
    catch (Exception e) when (e is FormatException or OverflowException)
    {
        throw new ArgumentException($"--hidden must be positive widths separated by commas (e.g. 512,256), got '{text}'.");
    }
}

static int Positive(int value, string name) => value > 0 ? value : throw new ArgumentException($"{name} must be positive, got {value}.");

static float PositiveFloat(float value, string name) =>
    value > 0 && float.IsFinite(value) ? value : throw new ArgumentException($"{name} must be a positive number, got {value}.");

static float Momentum(float value) =>
    value is >= 0 and < 1 ? value : throw new ArgumentException($"--momentum must be in [0, 1), got {value}.");

/// <summary>The sample's exit codes.</summary>
static class ExitCodes
{
    public const int Success = 0;
    public const int BadOption = 2;
    public const int DataMissing = 3;
    public const int OutputNotWritable = 4;
    public const int Diverged = 5;
}
