using MiniNet;
using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Optim;
using MiniNet.Samples;

namespace Experiments;

/// <summary>The training loop the experiments share: plain SGD on shuffled batches, test accuracy every few steps.</summary>
public static class Runner
{
    /// <summary>Trains <paramref name="model"/> for <paramref name="steps"/> steps; returns (step, test accuracy) points and
    /// the final training loss (NaN or infinity when training diverged, in which case it stops early).</summary>
    public static (List<(int Step, double Accuracy)> Curve, double FinalLoss) Train(Module model, TensorDataset train, TensorDataset test,
        int steps, int batchSize, float lr, int seed, int evalEvery, Action<int>? beforeStep = null, Action<int>? afterStep = null)
    {
        var optimizer = new SGD(model.Parameters(), lr);
        var curve = new List<(int, double)>();
        double loss = double.NaN;
        int step = 0;
        for (int epoch = 0; step < steps; epoch++)
        {
            foreach (var (x, y) in new DataLoader(train, batchSize, shuffle: true, seed: seed * 1000 + epoch, dropLast: true))
            {
                if (++step > steps) break;
                beforeStep?.Invoke(step);
                using (TensorScope.Begin())
                {
                    optimizer.ZeroGrad();
                    Tensor l = model.Forward(x).CrossEntropy(y);
                    loss = l.Item();
                    if (!double.IsFinite(loss)) return (curve, loss);
                    l.Backward();
                    optimizer.Step();
                }
                afterStep?.Invoke(step);
                if (step % evalEvery == 0 || step == steps) curve.Add((step, Evaluation.Evaluate(model, test).Accuracy));
            }
        }
        return (curve, loss);
    }

    /// <summary>784 → hidden… → 10 with the given normalization (or none, biases on) before each activation.</summary>
    public static Sequential Mlp(int[] hidden, Func<int, Module?> norm, Func<Module> activation)
    {
        var layers = new List<Module> { new Flatten() };
        int inputs = 784;
        foreach (int width in hidden)
        {
            Module? n = norm(width);
            layers.Add(new Dense(inputs, width, bias: n is null));
            if (n is not null) layers.Add(n);
            layers.Add(activation());
            inputs = width;
        }
        layers.Add(new Dense(inputs, 10));
        return new Sequential([.. layers]);
    }
}
