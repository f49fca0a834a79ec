using Microsoft.Extensions.Logging;
using MiniNet;
using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Samples;

namespace Experiments;

/// <summary>One row of exp1-accuracy.csv.</summary>
public sealed record AccuracyRow(string Run, int Step, double TestAccuracy);

/// <summary>The BN paper's Figure 1: a 784-100-100-100-10 sigmoid network, batch 60, with and without BatchNorm.
/// (a) test accuracy against training step; (b, c) the 15th, 50th and 85th percentiles of the input to one sigmoid
/// of the last hidden layer over training, without and with BN.</summary>
public static class Figure1
{
    public static void Run(int steps, int evalEvery, float lr, int seed, TensorDataset train, TensorDataset test, string output, ILogger logger)
    {
        var accuracyCsv = new MetricsWriter<AccuracyRow>(Path.Combine(output, "exp1-accuracy.csv"));
        var percentileCsv = new MetricsWriter<ActivationRecord>(Path.Combine(output, "exp1-percentiles.csv"));
        foreach (string file in new[] { accuracyCsv.Path, percentileCsv.Path }) File.Delete(file);
        var charts = new List<LineChart>();
        var accuracy = new LineChart { Title = "(a) Test accuracy", XLabel = "training step", YLabel = "accuracy" };
        charts.Add(accuracy);
        foreach (bool batchNorm in new[] { false, true })
        {
            string run = batchNorm ? "with BN" : "without BN";
            Rng.ManualSeed(seed);
            // 784-100-100-100-10 with sigmoids; with BN each hidden Dense loses its bias and feeds a BatchNorm1d.
            Sequential model = Runner.Mlp([100, 100, 100], w => batchNorm ? new BatchNorm1d(w) : null, () => new Sigmoid());
            using var monitor = new ActivationMonitor(Math.Max(1, steps / 200), 15, 50, 85);
            monitor.Watch(run, model.OfType<Sigmoid>().Last(), ActivationSide.Input, unit: 0);
            monitor.Recorded += percentileCsv.Append;
            var (curve, _) = Runner.Train(model, train, test, steps, 60, lr, seed, evalEvery, beforeStep: _ => monitor.Step());
            foreach (var (step, acc) in curve) accuracyCsv.Append(new AccuracyRow(run, step, acc));
            logger.LogInformation("{Run}: test accuracy {Early:P2} at step {EarlyStep}, {Final:P2} at step {Steps}",
                run, curve[Math.Min(9, curve.Count - 1)].Accuracy, curve[Math.Min(9, curve.Count - 1)].Step, curve[^1].Accuracy, steps);
            accuracy.Add(new Series(run, curve.Select(c => (double)c.Step).ToList(), curve.Select(c => c.Accuracy).ToList(), Dashed: !batchNorm));
            var percentiles = new LineChart { Title = $"({(batchNorm ? "c" : "b")}) Sigmoid input {run}", XLabel = "training step", YLabel = "input to one sigmoid" };
            foreach (double p in new[] { 85.0, 50.0, 15.0 })
            {
                var rows = monitor.Records.Where(r => r.Percentile == p).ToList();
                percentiles.Add(new Series($"{p:0}th percentile", rows.Select(r => (double)r.Step).ToList(), rows.Select(r => r.Value).ToList()));
            }
            charts.Add(percentiles);
        }
        LineChart.SaveFigure(Path.Combine(output, "exp1-figure1.svg"), [.. charts]);
    }
}
