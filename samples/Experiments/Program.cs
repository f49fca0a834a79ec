// Experiments that measure what the notes claim about batch normalization, one command each.
// Usage: dotnet run -c Release --project samples/Experiments -- fig1 [--full] [--steps N] [--out DIR]
using System.CommandLine;
using Experiments;
using Microsoft.Extensions.Logging;
using MiniNet.Data;

var full = new Option<bool>("--full") { Description = "the paper's budget (50,000 steps) instead of the quick default" };
var steps = new Option<int?>("--steps") { Description = "training steps per run (overrides --full)" };
var lr = new Option<float>("--lr") { Description = "SGD learning rate (the same for both runs)", DefaultValueFactory = _ => 0.5f };
var seed = new Option<int>("--seed") { Description = "seed", DefaultValueFactory = _ => 1 };
var output = new Option<string>("--out") { Description = "output folder", DefaultValueFactory = _ => Path.Combine("runs", "experiments") };
var data = new Option<string?>("--data") { Description = "folder holding the IDX files" };

Command Sweep(string name, string description, Action<int, float, int, TensorDataset, TensorDataset, string, ILogger> run, int quick, int paper)
{
    var command = new Command(name, description) { full, steps, lr, seed, output, data };
    command.SetAction(parsed => WithData(parsed, quick, paper, run));
    return command;
}

int WithData(ParseResult parsed, int quick, int paper, Action<int, float, int, TensorDataset, TensorDataset, string, ILogger> run)
{
    using ILoggerFactory factory = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }));
    ILogger logger = factory.CreateLogger("Experiments");
    int n = parsed.GetValue(steps) ?? (parsed.GetValue(full) ? paper : quick);
    if (n <= 0) { Console.Error.WriteLine("error: --steps must be positive."); return 2; }
    string folder = parsed.GetValue(output)!;
    Directory.CreateDirectory(folder);
    try
    {
        var options = new DatasetOptions { Directory = parsed.GetValue(data), Logger = logger };
        run(n, parsed.GetValue(lr), parsed.GetValue(seed), FashionMnist.Load(Split.Train, options), FashionMnist.Load(Split.Test, options), folder, logger);
    }
    catch (Exception e) when (e is DatasetNotFoundException or InvalidDataException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 3;
    }
    logger.LogInformation("Results in {Folder}", folder);
    return 0;
}

var fig1 = Sweep("fig1", "The BN paper's Figure 1: 784-100-100-100-10 sigmoid network, batch 60, with and without BN.",
    (n, rate, s, train, test, folder, logger) => Figure1.Run(n, Math.Max(1, n / 100), rate, s, train, test, folder, logger), quick: 10_000, paper: 50_000);
var sweep = Sweep("lr-sweep", "Final test accuracy over learning rates 0.01 … 30, with and without BN (784-100-100-100-10, sigmoid).",
    (n, _, s, train, test, folder, logger) => LearningRates.RunSweep(n, s, train, test, folder, logger), quick: 2_000, paper: 10_000);
var norms = Sweep("bn-vs-ln", "BatchNorm against LayerNorm (and no normalization) on the same network.",
    (n, rate, s, train, test, folder, logger) => LearningRates.RunNorms(n, rate, s, train, test, folder, logger), quick: 10_000, paper: 50_000);
var inference = Sweep("inference-stats", "Running averages (momentum 0.01, 0.1, 0.5) against population statistics, over batch sizes.",
    (n, rate, s, train, test, folder, logger) => Statistics.RunInference(n, rate, s, train, test, folder, logger), quick: 3_000, paper: 20_000);
var small = Sweep("small-batches", "Batch sizes 2, 4, 8, 32 with BatchNorm and with Batch Renormalization.",
    (n, rate, s, train, test, folder, logger) => Statistics.RunSmallBatches(n, rate, s, train, test, folder, logger), quick: 6_000, paper: 30_000);
var constant = Sweep("constant-stats", "Batch statistics treated as constants (no gradient through them) against true BN: what happens to the biases.",
    (n, rate, s, train, test, folder, logger) => ConstantStatistics.Run(n, rate, s, train, test, folder, logger), quick: 10_000, paper: 50_000);
var root = new RootCommand("MiniNet's batch-normalization experiments.") { fig1, sweep, constant, inference, small, norms };
return root.Parse(args).Invoke();
