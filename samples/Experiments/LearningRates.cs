using Microsoft.Extensions.Logging;
using MiniNet;
using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Samples;

namespace Experiments;

/// <summary>One row of exp2-learning-rates.csv and exp6-bn-vs-ln.csv.</summary>
public sealed record SweepRow(string Run, double LearningRate, double TestAccuracy, double FinalLoss, bool Diverged);

/// <summary>Experiment 2: final accuracy over a sweep of learning rates, with and without BN (784-100-100-100-10, sigmoid).
/// Experiment 6: BatchNorm against LayerNorm on the same network.</summary>
public static class LearningRates
{
    public static readonly float[] Sweep = [0.01f, 0.03f, 0.1f, 0.3f, 1f, 3f, 10f, 30f];

    public static void RunSweep(int steps, int seed, TensorDataset train, TensorDataset test, string output, ILogger logger)
    {
        var csv = new MetricsWriter<SweepRow>(Path.Combine(output, "exp2-learning-rates.csv"));
        File.Delete(csv.Path);
        var chart = new LineChart { Title = "Final test accuracy against learning rate", XLabel = "learning rate (log scale)", YLabel = "test accuracy", LogX = true };
        foreach (var (name, norm) in Variants())
        {
            var xs = new List<double>();
            var ys = new List<double>();
            foreach (float lr in Sweep)
            {
                Rng.ManualSeed(seed);
                Sequential model = Runner.Mlp([100, 100, 100], norm, () => new Sigmoid());
                var (curve, loss) = Runner.Train(model, train, test, steps, 60, lr, seed, evalEvery: steps);
                bool diverged = !double.IsFinite(loss);
                double accuracy = diverged || curve.Count == 0 ? 0.1 : curve[^1].Accuracy;
                csv.Append(new SweepRow(name, lr, accuracy, loss, diverged));
                logger.LogInformation("{Run}, lr {Lr}: test accuracy {Accuracy:P2}{Diverged}", name, lr, accuracy, diverged ? " (diverged)" : "");
                xs.Add(lr);
                ys.Add(accuracy);
            }
            chart.Add(new Series(name, xs, ys, Dashed: name == "without BN"));
        }
        LineChart.SaveFigure(Path.Combine(output, "exp2-learning-rates.svg"), chart);
    }

    public static void RunNorms(int steps, float lr, int seed, TensorDataset train, TensorDataset test, string output, ILogger logger)
    {
        var csv = new MetricsWriter<SweepRow>(Path.Combine(output, "exp6-bn-vs-ln.csv"));
        File.Delete(csv.Path);
        var chart = new LineChart { Title = "BatchNorm against LayerNorm", XLabel = "training step", YLabel = "test accuracy" };
        (string, Func<int, Module?>)[] variants = [("BatchNorm", w => new BatchNorm1d(w)), ("LayerNorm", w => new LayerNorm(w)), ("none", _ => null)];
        foreach (var (name, norm) in variants)
        {
            Rng.ManualSeed(seed);
            Sequential model = Runner.Mlp([100, 100, 100], norm, () => new Sigmoid());
            var (curve, loss) = Runner.Train(model, train, test, steps, 60, lr, seed, evalEvery: Math.Max(1, steps / 50));
            csv.Append(new SweepRow(name, lr, curve[^1].Accuracy, loss, !double.IsFinite(loss)));
            logger.LogInformation("{Run}: test accuracy {Accuracy:P2} after {Steps} steps", name, curve[^1].Accuracy, steps);
            chart.Add(new Series(name, curve.Select(c => (double)c.Step).ToList(), curve.Select(c => c.Accuracy).ToList(), Dashed: name == "none"));
        }
        LineChart.SaveFigure(Path.Combine(output, "exp6-bn-vs-ln.svg"), chart);
    }

    private static (string, Func<int, Module?>)[] Variants() => [("with BN", w => new BatchNorm1d(w)), ("without BN", _ => null)];
}
