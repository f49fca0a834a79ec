using Microsoft.Extensions.Logging.Abstractions;
using MiniNet.Data;
using MiniNet.Tests.Support;
using MnistBatchNorm;

namespace MiniNet.Tests.Samples;

[TestFixture]
public class MnistBatchNormTests : TempDirectoryTest
{
    private static Settings Settings(float lr, string output) => new(
        "dnn", BatchNorm: true, "relu", [32], Epochs: 2, BatchSize: 16, lr, Momentum: 0.9f, Seed: 1, "constant", "fashion",
        DataDirectory: null, output, Limit: null, "running", Compare: false);

    private static TensorDataset Tiny(int seed) =>
        new(TestData.Uniform([64, 1, 28, 28], seed, 0f, 1f), Enumerable.Range(0, 64).Select(i => i % 10).ToArray());

    [Test]
    public void Trainer_DivergingLoss_StopsWithAClearMessage()
    {
        Rng.ManualSeed(1);
        var metrics = new MetricsWriter<EpochMetrics>(PathOf("metrics.csv"));
        var trainer = new Trainer(Settings(1e30f, Dir), NullLogger.Instance);
        var ex = Assert.Throws<DivergedException>(() => trainer.Train(Models.Dnn([32], "relu", batchNorm: true), Tiny(1), Tiny(2), metrics));
        Assert.That(ex!.Message, Does.Contain("training loss became").And.Contain("lower --lr"));
    }

    [Test]
    public void Trainer_WritesOneMetricsRowPerEpoch_AndLearns()
    {
        Rng.ManualSeed(1);
        var metrics = new MetricsWriter<EpochMetrics>(PathOf("metrics.csv"));
        List<EpochMetrics> history = new Trainer(Settings(0.05f, Dir), NullLogger.Instance)
            .Train(Models.Dnn([32], "relu", batchNorm: true), Tiny(3), Tiny(4), metrics);
        Assert.That(history, Has.Count.EqualTo(2));
        Assert.That(File.ReadAllLines(metrics.Path), Has.Length.EqualTo(3));
        Assert.That(history[1].TrainLoss, Is.LessThan(history[0].TrainLoss));
    }
}
