using MiniNet;
using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Optim;

namespace TabularRegression;

/// <summary>What a run reached on the held-out rows: the root-mean-square error of each target, in the target's own
/// units, for the network and for the baseline that predicts the training mean.</summary>
public sealed record RegressionResult(IReadOnlyList<string> Targets, double[] TestRmse, double[] BaselineRmse, float FinalTrainLoss);

/// <summary>A regression from a CSV file to several float targets, end to end: load, split, standardise, train a
/// bias-free BN network with MSELoss, evaluate.</summary>
public static class Regression
{
    /// <summary>Trains on 80% of the rows of <paramref name="csvPath"/> and reports the RMSE on the other 20%.</summary>
    public static RegressionResult Run(string csvPath, IReadOnlyList<string> targets, int epochs, int seed, TextWriter log)
    {
        // Float targets straight from the CSV, split reproducibly into training and test rows.
        TensorPairDataset all = CsvDataset.LoadTargets(csvPath, targets);
        TensorPairSubset[] parts = Datasets.RandomSplit(all, [0.8, 0.2], seed);
        TensorPairDataset train = TensorPairDataset.CopyOf(parts[0]), test = TensorPairDataset.CopyOf(parts[1]);

        // Features and targets are standardised with statistics of the training rows only; the loss is then the same
        // scale for every target, and predictions are mapped back for the report.
        Normalization inputs = Normalization.Fit(train), outputs = Normalization.Fit(train.Targets);
        train = new TensorPairDataset(inputs.Apply(train.Features), outputs.Apply(train.Targets));
        Tensor testX = inputs.Apply(test.Features);

        int features = all.SampleSize, outs = all.TargetSize;
        Rng.ManualSeed(seed);
        var model = new Sequential(
            new Dense(features, 64, bias: false), new BatchNorm1d(64), new ReLU(),
            new Dense(64, 64, bias: false), new BatchNorm1d(64), new ReLU(),
            new Dense(64, outs));
        var loader = DataLoader.Create(train, batchSize: 64, shuffle: true, seed: seed, prefetch: true);
        var optimizer = new AdamW(model.Parameters(), lr: 3e-3f, weightDecay: 1e-4f);
        var schedule = new OneCycleLR(optimizer, maxLr: 1e-2f, totalSteps: epochs * loader.BatchCount);
        var loss = new MSELoss();

        float epochLoss = float.NaN;
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            model.Train();
            double sum = 0;
            foreach ((Tensor x, Tensor y) in loader)
            {
                using var step = TensorScope.Begin();
                optimizer.ZeroGrad();
                Tensor l = loss.Forward(model.Forward(x), y);
                l.Backward();
                optimizer.Step();
                schedule.Step();
                sum += l.Item() * x.Shape[0];
            }
            epochLoss = (float)(sum / loader.SampleCount);
            if (epoch == 1 || epoch % 10 == 0 || epoch == epochs) log.WriteLine($"epoch {epoch,3}: training loss {epochLoss:F4} (standardised units)");
        }

        model.Eval();
        float[] predicted;
        using (Autograd.NoGrad()) predicted = model.Forward(testX).ToArray();
        float[] actual = test.Targets.ToArray();
        var rmse = new double[outs];
        var baseline = new double[outs];
        for (int i = 0; i < test.Count; i++)
            for (int k = 0; k < outs; k++)
            {
                // Back to the target's units: y = standardised·std + mean.
                double guess = predicted[i * outs + k] * outputs.Std[k] + outputs.Mean[k], truth = actual[i * outs + k];
                rmse[k] += (guess - truth) * (guess - truth);
                baseline[k] += (outputs.Mean[k] - truth) * (outputs.Mean[k] - truth);
            }
        for (int k = 0; k < outs; k++) (rmse[k], baseline[k]) = (Math.Sqrt(rmse[k] / test.Count), Math.Sqrt(baseline[k] / test.Count));
        return new RegressionResult([.. targets], rmse, baseline, epochLoss);
    }
}
