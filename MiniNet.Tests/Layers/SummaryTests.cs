using MiniNet.Layers;

namespace MiniNet.Tests.Layers;

[TestFixture]
public class SummaryTests
{
    private static Sequential Cnn() => new(
        new Conv2d(1, 8, 3, padding: 1, bias: false), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
        new Flatten(), new Sequential(new Dense(8 * 14 * 14, 16, bias: false), new BatchNorm1d(16), new ReLU()), new Dense(16, 10));

    [Test]
    public void Summary_ListsEveryModule_WithOutputShapesAndCounts()
    {
        Rng.ManualSeed(1);
        Sequential model = Cnn();
        ModelSummary summary = model.Summary(32, 1, 28, 28);
        Assert.That(summary.Modules.Select(m => m.Name), Is.EqualTo(new[] { "", "0", "1", "2", "3", "4", "5", "5.0", "5.1", "5.2", "6" }));
        Assert.That(summary.Modules.Single(m => m.Name == "3").OutputShape, Is.EqualTo(new[] { 32, 8, 14, 14 }));
        Assert.That(summary.Modules.Single(m => m.Name == "5.0").OutputShape, Is.EqualTo(new[] { 32, 16 }));
        Assert.That(summary.Modules[0].OutputShape, Is.EqualTo(new[] { 32, 10 }));
        Assert.That(summary.Modules.Single(m => m.Name == "5").Parameters, Is.EqualTo(8 * 14 * 14 * 16 + 2 * 16), "a container counts its children");
        Assert.That(summary.Modules.Single(m => m.Name == "5.1").Depth, Is.EqualTo(2));
        long total = model.Parameters().Sum(p => (long)p.Numel);
        Assert.That((summary.Parameters, summary.Trainable), Is.EqualTo((total, total)));
        Assert.That(summary.BufferValues, Is.EqualTo(8 + 8 + 1 + 16 + 16 + 1));
        // Leaf outputs: conv, bn, relu 32·8·28·28 each; pool 32·8·14·14; flatten the same; dense, bn, relu 32·16 each; dense 32·10.
        Assert.That(summary.ActivationValues, Is.EqualTo(3L * 32 * 8 * 28 * 28 + 2L * 32 * 8 * 14 * 14 + 3L * 32 * 16 + 32 * 10));
        string text = summary.ToString();
        Assert.That(text, Does.Contain("Conv2d(1, 8").And.Contain("(32, 8, 28, 28)").And.Contain("Parameters: ").And.Contain("MiB"));
    }

    [Test]
    public void Summary_LeavesTheModelAsItWas()
    {
        Rng.ManualSeed(2);
        Sequential model = Cnn();
        model.Forward(Tensor.Randn([4, 1, 28, 28], seed: 3)).Sum().Backward();   // a training step's statistics
        var before = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        model.Summary(8, 1, 28, 28);
        Assert.That(model.Training, Is.True, "training mode restored");
        foreach (var (key, value) in model.StateDict())
            Assert.That(value.ToArray(), Is.EqualTo(before[key]), key);
        model.Eval();
        model.Summary(8, 1, 28, 28);
        Assert.That(model.Training, Is.False, "evaluation mode restored");
        Assert.That(model.Modules().All(m => !m.Training), Is.True);
    }

    [Test]
    public void Summary_CountsASharedParameterOnce_AndRefusesABadShape()
    {
        var shared = new Dense(4, 4);
        var model = new Sequential(shared, new ReLU(), shared);
        Assert.That(model.Summary(2, 4).Parameters, Is.EqualTo(20));
        Assert.Throws<ArgumentException>(() => model.Summary());
        Assert.Throws<ArgumentException>(() => model.Summary(2, -4));
        Assert.Throws<ArgumentException>(() => model.Summary(2, 5), "the model's own error for a wrong width");
    }
}
