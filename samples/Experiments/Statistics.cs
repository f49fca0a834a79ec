using Microsoft.Extensions.Logging;
using MiniNet;
using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Samples;

namespace Experiments;

/// <summary>One row of exp4-inference-statistics.csv.</summary>
public sealed record InferenceRow(int BatchSize, double Momentum, double RunningAccuracy, double PopulationAccuracy);

/// <summary>One row of exp5-small-batches.csv.</summary>
public sealed record SmallBatchRow(string Run, int BatchSize, double TestAccuracy);

/// <summary>Experiment 4: running averages (several momentum values) against population statistics.
/// Experiment 5: small batches with BatchNorm and with Batch Renormalization.</summary>
public static class Statistics
{
    public static void RunInference(int steps, float lr, int seed, TensorDataset train, TensorDataset test, string output, ILogger logger)
    {
        var csv = new MetricsWriter<InferenceRow>(Path.Combine(output, "exp4-inference-statistics.csv"));
        File.Delete(csv.Path);
        var chart = new LineChart { Title = "Test accuracy: running averages vs population statistics", XLabel = "batch size (log scale)", YLabel = "test accuracy", LogX = true };
        int[] batchSizes = [4, 16, 64, 256];
        var population = new List<double>();
        foreach (float momentum in new[] { 0.01f, 0.1f, 0.5f })
        {
            var running = new List<double>();
            population.Clear();
            foreach (int batch in batchSizes)
            {
                Rng.ManualSeed(seed);
                Sequential model = Runner.Mlp([100, 100, 100], w => new BatchNorm1d(w, momentum: momentum), () => new Sigmoid());
                Runner.Train(model, train, test, steps, batch, lr, seed, evalEvery: steps);
                double withRunning = Evaluation.Evaluate(model, test).Accuracy;
                BatchNormStatistics.Recompute(model, new DataLoader(train, batch, dropLast: true).Select(b => b.X));
                double withPopulation = Evaluation.Evaluate(model, test).Accuracy;
                csv.Append(new InferenceRow(batch, momentum, withRunning, withPopulation));
                logger.LogInformation("batch {Batch}, momentum {Momentum}: running {Running:P2}, population {Population:P2}", batch, momentum, withRunning, withPopulation);
                running.Add(withRunning);
                population.Add(withPopulation);
            }
            chart.Add(new Series($"running, momentum {momentum}", batchSizes.Select(b => (double)b).ToList(), running));
        }
        chart.Add(new Series("population (momentum 0.5 run)", batchSizes.Select(b => (double)b).ToList(), population.ToList(), Dashed: true));
        LineChart.SaveFigure(Path.Combine(output, "exp4-inference-statistics.svg"), chart);
    }

    public static void RunSmallBatches(int steps, float lr, int seed, TensorDataset train, TensorDataset test, string output, ILogger logger)
    {
        var csv = new MetricsWriter<SmallBatchRow>(Path.Combine(output, "exp5-small-batches.csv"));
        File.Delete(csv.Path);
        var chart = new LineChart { Title = "Small batches: BatchNorm vs Batch Renormalization", XLabel = "batch size (log scale)", YLabel = "test accuracy", LogX = true };
        int[] batchSizes = [2, 4, 8, 32];
        (string, Func<int, Module?>)[] variants =
        [
            ("BatchNorm", w => new BatchNorm1d(w)),
            ("BatchRenorm", w => new BatchRenorm1d(w, rMax: 3f, dMax: 5f, warmupSteps: steps / 5)),
        ];
        foreach (var (name, norm) in variants)
        {
            var accuracy = new List<double>();
            foreach (int batch in batchSizes)
            {
                Rng.ManualSeed(seed);
                Sequential model = Runner.Mlp([100, 100, 100], norm, () => new Sigmoid());
                var (curve, _) = Runner.Train(model, train, test, steps, batch, lr, seed, evalEvery: steps);
                double acc = curve.Count == 0 ? 0.1 : curve[^1].Accuracy;
                csv.Append(new SmallBatchRow(name, batch, acc));
                logger.LogInformation("{Run}, batch {Batch}: test accuracy {Accuracy:P2}", name, batch, acc);
                accuracy.Add(acc);
            }
            chart.Add(new Series(name, batchSizes.Select(b => (double)b).ToList(), accuracy, Dashed: name == "BatchNorm"));
        }
        LineChart.SaveFigure(Path.Combine(output, "exp5-small-batches.svg"), chart);
    }
}
