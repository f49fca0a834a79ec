using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Optim;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Reliability;

/// <summary>Training N epochs straight equals training N/2, saving everything, and resuming to N, bit for bit.</summary>
/// <remarks>Everything random is seeded from (seed, epoch) — the loader's shuffle by the loader, dropout by
/// <c>Rng.ManualSeed</c> at the start of each epoch — so no generator state needs saving. What is saved: the model
/// (parameters and BatchNorm buffers), the optimizer (momentum buffers and their flags, learning rates), the schedule's
/// epoch and the loader's epoch.</remarks>
[TestFixture]
public class ResumeTests : TempDirectoryTest
{
    private const int Seed = 11, Epochs = 4;

    private sealed record Run(Sequential Model, SGD Optimizer, CosineAnnealingLR Schedule, DataLoader Loader);

    private static Run Create(TensorDataset data)
    {
        Rng.ManualSeed(Seed);   // initialisation
        var model = new Sequential(new Dense(12, 32, bias: false), new BatchNorm1d(32), new ReLU(), new Dropout(0.3f), new Dense(32, 3));
        var optimizer = new SGD(model.Parameters(), 0.1f, momentum: 0.9f, weightDecay: 1e-4f);
        return new Run(model, optimizer, new CosineAnnealingLR(optimizer, Epochs), new DataLoader(data, 16, shuffle: true, seed: Seed));
    }

    private static void TrainEpochs(Run run, int from, int to)
    {
        for (int epoch = from; epoch < to; epoch++)
        {
            Rng.ManualSeed(Seed * 1000 + epoch);   // dropout masks of this epoch
            run.Model.Train();
            foreach (var (x, y) in run.Loader)
            {
                using var step = TensorScope.Begin();
                run.Optimizer.ZeroGrad();
                run.Model.Forward(x).CrossEntropy(y).Backward();
                run.Optimizer.Step();
            }
            run.Schedule.Step();
        }
    }

    [Test]
    public void SaveAndResume_GivesBitwiseIdenticalWeights()
    {
        var data = new TensorDataset(TestData.Uniform([100, 12], 1), Enumerable.Range(0, 100).Select(i => i % 3).ToArray());

        Run straight = Create(data);
        TrainEpochs(straight, 0, Epochs);

        Run first = Create(data);
        TrainEpochs(first, 0, Epochs / 2);
        first.Model.Save(PathOf("model.safetensors"));
        MiniNet.Safetensors.Save(first.Optimizer.StateDict(), PathOf("optimizer.safetensors"),
            new Dictionary<string, string> { ["epoch"] = (Epochs / 2).ToString(System.Globalization.CultureInfo.InvariantCulture) });

        Run resumed = Create(data);
        resumed.Model.Load(PathOf("model.safetensors"));
        resumed.Optimizer.LoadStateDict(MiniNet.Safetensors.Load(PathOf("optimizer.safetensors"), out var meta));
        int epoch = int.Parse(meta["epoch"], System.Globalization.CultureInfo.InvariantCulture);
        resumed.Schedule.SetEpoch(epoch);
        resumed.Loader.Epoch = epoch;
        TrainEpochs(resumed, epoch, Epochs);

        foreach (var (key, tensor) in straight.Model.StateDict())
            Assert.That(resumed.Model.StateDict()[key].ToArray(), Is.EqualTo(tensor.ToArray()), key);
    }
}
