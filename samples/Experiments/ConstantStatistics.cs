using Microsoft.Extensions.Logging;
using MiniNet;
using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Samples;

namespace Experiments;

/// <summary>Normalisation by the batch's statistics treated as constants: y = γ·(x − μ_B)/√(σ²_B + ε) + β where μ_B
/// and σ²_B are computed without a graph, so no gradient flows through them — the shortcut the BN paper (section 2)
/// warns against.</summary>
public sealed class ConstantStatisticsNorm : Module
{
    private readonly Parameter _gamma, _beta;

    public ConstantStatisticsNorm(int features)
    {
        _gamma = RegisterParameter("weight", Tensor.Ones(features));
        _beta = RegisterParameter("bias", Tensor.Zeros(features));
    }

    public override Tensor Forward(Tensor x)
    {
        Tensor mean, std;
        using (Autograd.NoGrad())
        {
            mean = x.Mean(0, keepDim: true);
            std = (x.Var(0, unbiased: false, keepDim: true) + 1e-5f).Sqrt();
        }
        return (x - mean) / std * _gamma + _beta;
    }
}

/// <summary>One row of exp3-constant-statistics.csv.</summary>
public sealed record ConstantStatisticsRow(string Run, int Step, double BiasNorm, double TestAccuracy);

/// <summary>Experiment 3: why training must use mini-batch statistics with gradients through them.</summary>
public static class ConstantStatistics
{
    public static void Run(int steps, float lr, int seed, TensorDataset train, TensorDataset test, string output, ILogger logger)
    {
        var csv = new MetricsWriter<ConstantStatisticsRow>(Path.Combine(output, "exp3-constant-statistics.csv"));
        File.Delete(csv.Path);
        var biasChart = new LineChart { Title = "Norm of the biases feeding the normalisation", XLabel = "training step", YLabel = "‖b‖ (all hidden layers)" };
        var accuracyChart = new LineChart { Title = "Test accuracy", XLabel = "training step", YLabel = "test accuracy" };
        (string, Func<int, Module>)[] variants = [("true BN (gradients through μ, σ²)", w => new BatchNorm1d(w)), ("statistics as constants", w => new ConstantStatisticsNorm(w))];
        int every = Math.Max(1, steps / 50);
        foreach (var (name, norm) in variants)
        {
            Rng.ManualSeed(seed);
            // Biases on, on purpose: the question is what happens to them.
            var layers = new List<Module> { new Flatten() };
            var dense = new List<Dense>();
            int inputs = 784;
            for (int i = 0; i < 3; i++)
            {
                var d = new Dense(inputs, 100, bias: true);
                dense.Add(d);
                layers.AddRange([d, norm(100), new Sigmoid()]);
                inputs = 100;
            }
            layers.Add(new Dense(100, 10));
            // The biases before BatchNorm are this experiment's subject: no warning about them.
            var model = new Sequential(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, [.. layers]);
            var norms = new List<(int, double)>();
            var (curve, loss) = Runner.Train(model, train, test, steps, 60, lr, seed, evalEvery: every, afterStep: step =>
            {
                if (step % every == 0) norms.Add((step, Math.Sqrt(dense.Sum(d => d.Bias!.ToArray().Sum(b => (double)b * b)))));
            });
            foreach (var ((step, biasNorm), (_, accuracy)) in norms.Zip(curve))
                csv.Append(new ConstantStatisticsRow(name, step, biasNorm, accuracy));
            logger.LogInformation("{Run}: ‖b‖ {Start:F2} → {End:F2}; test accuracy {Accuracy:P2}; final loss {Loss:F3}",
                name, norms[0].Item2, norms[^1].Item2, curve.Count > 0 ? curve[^1].Accuracy : double.NaN, loss);
            biasChart.Add(new Series(name, norms.Select(n => (double)n.Item1).ToList(), norms.Select(n => n.Item2).ToList()));
            accuracyChart.Add(new Series(name, curve.Select(c => (double)c.Step).ToList(), curve.Select(c => c.Accuracy).ToList()));
        }
        LineChart.SaveFigure(Path.Combine(output, "exp3-constant-statistics.svg"), biasChart, accuracyChart);
    }
}
