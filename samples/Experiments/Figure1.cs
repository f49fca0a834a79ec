using Microsoft.Extensions.Logging;
using MiniNet;
using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Optim;
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
        var charts = new List<SvgLineChart>();
        var accuracy = new SvgLineChart { Title = "(a) Test accuracy", XLabel = "training step", YLabel = "accuracy" };
        charts.Add(accuracy);
        foreach (bool batchNorm in new[] { false, true })
        {
            string run = batchNorm ? "with BN" : "without BN";
            Rng.ManualSeed(seed);
            (Sequential model, Module lastSigmoid) = Build(batchNorm);
            var optimizer = new SGD(model.Parameters(), lr);
            using var monitor = new ActivationMonitor(Math.Max(1, steps / 200), 15, 50, 85);
            monitor.Watch(run, lastSigmoid, ActivationSide.Input, unit: 0);
            monitor.Recorded += percentileCsv.Append;
            var xs = new List<double>();
            var ys = new List<double>();
            int step = 0;
            for (int epoch = 0; step < steps; epoch++)
            {
                foreach (var (x, y) in new DataLoader(train, 60, shuffle: true, seed: seed * 1000 + epoch))
                {
                    if (++step > steps) break;
                    monitor.Step();
                    using (TensorScope.Begin())
                    {
                        optimizer.ZeroGrad();
                        model.Forward(x).CrossEntropy(y).Backward();
                        optimizer.Step();
                    }
                    if (step % evalEvery == 0 || step == steps)
                    {
                        double acc = Evaluation.Evaluate(model, test).Accuracy;
                        xs.Add(step);
                        ys.Add(acc);
                        accuracyCsv.Append(new AccuracyRow(run, step, acc));
                        if (step % (evalEvery * 10) == 0 || step == steps)
                            logger.LogInformation("{Run}: step {Step}/{Steps}, test accuracy {Accuracy:P2}", run, step, steps, acc);
                    }
                }
            }
            accuracy.Add(new Series(run, xs, ys, Dashed: !batchNorm));
            var percentiles = new SvgLineChart { Title = $"({(batchNorm ? "c" : "b")}) Sigmoid input {run}", XLabel = "training step", YLabel = "input to one sigmoid" };
            foreach (double p in new[] { 85.0, 50.0, 15.0 })
            {
                var rows = monitor.Records.Where(r => r.Percentile == p).ToList();
                percentiles.Add(new Series($"{p:0}th percentile", rows.Select(r => (double)r.Step).ToList(), rows.Select(r => r.Value).ToList()));
            }
            charts.Add(percentiles);
        }
        SvgLineChart.SaveFigure(Path.Combine(output, "exp1-figure1.svg"), [.. charts]);
    }

    /// <summary>784-100-100-100-10 with sigmoids; with BN each hidden Dense loses its bias and feeds a BatchNorm1d.
    /// Returns the model and its last hidden sigmoid.</summary>
    private static (Sequential Model, Module LastSigmoid) Build(bool batchNorm)
    {
        var layers = new List<Module> { new Flatten() };
        Module last = null!;
        int inputs = 784;
        for (int i = 0; i < 3; i++)
        {
            layers.Add(new Dense(inputs, 100, bias: !batchNorm));
            if (batchNorm) layers.Add(new BatchNorm1d(100));
            layers.Add(last = new Sigmoid());
            inputs = 100;
        }
        layers.Add(new Dense(100, 10));
        return (new Sequential([.. layers]), last);
    }
}
