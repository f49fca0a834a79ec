using Microsoft.Extensions.Logging;
using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Layers;

[TestFixture]
public class SequentialTests
{
    [Test]
    public void BiasBeforeBatchNorm_LogsAWarning()
    {
        var logger = new CapturingLogger();
        _ = new Sequential(logger, new Dense(4, 3), new BatchNorm1d(3), new ReLU(), new Conv2d(1, 2, 3), new BatchNorm2d(2));
        Assert.That(logger.Entries, Has.Count.EqualTo(2));
        Assert.That(logger.Entries[0].Level, Is.EqualTo(LogLevel.Warning));
        Assert.That(logger.Entries[0].Message, Does.Contain("module 0 (Dense)").And.Contain("cancels that bias"));
        Assert.That(logger.Entries[1].Message, Does.Contain("module 3 (Conv2d)"));
    }

    [Test]
    public void BiasFreeBeforeBatchNorm_LogsNothing()
    {
        var logger = new CapturingLogger();
        _ = new Sequential(logger, new Dense(4, 3, bias: false), new BatchNorm1d(3), new Dense(3, 2));
        Assert.That(logger.Entries, Is.Empty);
    }

    [Test]
    public void IssueExample_BnDnnAndBnCnn_TrainAndSave()
    {
        Rng.ManualSeed(1);
        var model = new Sequential(
            new Dense(784, 100, bias: false), new BatchNorm1d(100), new Sigmoid(),
            new Dense(100, 100, bias: false), new BatchNorm1d(100), new Sigmoid(),
            new Dense(100, 10, bias: false));
        var cnn = new Sequential(
            new Conv2d(1, 32, 3, padding: 1, bias: false), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            new Conv2d(32, 64, 3, padding: 1, bias: false), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Dense(3136, 128, bias: false), new BatchNorm1d(128), new ReLU(), new Dense(128, 10));
        Tensor x = Tensor.Randn([16, 784], seed: 2);
        int[] labels = Enumerable.Range(0, 16).Select(i => i % 10).ToArray();

        float first = TrainSteps(model, x, labels, 30, 0.5f);
        float last = TrainSteps(model, x, labels, 1, 0.5f);
        Assert.That(last, Is.LessThan(first * 0.5f), "the BN-DNN memorises 16 samples");

        Tensor images = x.Reshape(16, 1, 28, 28);
        float cnnFirst = TrainSteps(cnn, images, labels, 8, 0.05f);
        float cnnLast = TrainSteps(cnn, images, labels, 1, 0.05f);
        Assert.That(cnnLast, Is.LessThan(cnnFirst));

        model.Eval();
        using (MiniNet.Autograd.NoGrad()) { var logits = model.Forward(x); Assert.That(logits.Shape, Is.EqualTo(new[] { 16, 10 })); }
        string path = Path.Combine(Path.GetTempPath(), $"mininet-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            Assert.That(File.Exists(path), Is.True);
        }
        finally { File.Delete(path); }
    }

    /// <summary>Runs plain SGD steps; returns the loss of the first step.</summary>
    private static float TrainSteps(Module model, Tensor x, int[] labels, int steps, float lr)
    {
        float first = float.NaN;
        model.Train();
        for (int s = 0; s < steps; s++)
        {
            model.ZeroGrad();
            var loss = model.Forward(x).CrossEntropy(labels);
            loss.Backward();
            if (s == 0) first = loss.Item();
            foreach (Parameter p in model.Parameters())
                for (int i = 0; i < p.Numel; i++) p.Data[i] -= lr * p.Grad!.Data[i];
        }
        return first;
    }
}
