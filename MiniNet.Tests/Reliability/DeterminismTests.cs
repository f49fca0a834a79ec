using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Optim;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Reliability;

[TestFixture]
public class DeterminismTests
{
    /// <summary>A small BN-CNN trained for a few steps with every threaded kernel (GEMM, im2col, BatchNorm, pooling),
    /// shuffling with prefetch, and dropout; returns every state-dict value.</summary>
    private static float[] Train(int seed, int? threads = null)
    {
        int saved = Threads.MaxCount;
        if (threads is { } count) Threads.MaxCount = count;
        try
        {
            return TrainSteps(seed);
        }
        finally
        {
            Threads.MaxCount = saved;
        }
    }

    private static float[] TrainSteps(int seed)
    {
        Rng.ManualSeed(seed);
        var model = new Sequential(
            new Conv2d(1, 8, 3, padding: 1, bias: false), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Dropout(0.2f), new Dense(8 * 14 * 14, 32, bias: false), new BatchNorm1d(32), new ReLU(), new Dense(32, 10));
        var data = new TensorDataset(Tensor.Randn([256, 1, 28, 28], seed: seed + 1), Enumerable.Range(0, 256).Select(i => i % 10).ToArray());
        var optimizer = new SGD(model.Parameters(), 0.05f, momentum: 0.9f);
        foreach (var (x, y) in new DataLoader(data, 64, shuffle: true, seed: seed, prefetch: true))
        {
            using var step = TensorScope.Begin();
            optimizer.ZeroGrad();
            model.Forward(x).CrossEntropy(y).Backward();
            optimizer.Step();
        }
        return model.StateDict().Values.SelectMany(t => t.ToArray()).ToArray();
    }

    [Test]
    public void SameSeed_GivesBitwiseIdenticalWeights_WithAllThreads()
    {
        float[] first = Train(3), second = Train(3);
        Assert.That(second, Is.EqualTo(first));
        Assert.That(Train(4), Is.Not.EqualTo(first), "a different seed gives different weights");
    }

    /// <summary>The weights do not depend on how many threads computed them: every reduction (the convolution's weight
    /// gradient over images, split-k products, BatchNorm's sums) is cut by the shape, never by the thread count. Three
    /// threads on a two-core machine still cut the work in three.</summary>
    [Test]
    public void Training_GivesBitwiseIdenticalWeights_OnAnyThreadCount()
    {
        float[] one = Train(5, threads: 1);
        Assert.That(Train(5, threads: 2), Is.EqualTo(one), "two threads");
        Assert.That(Train(5, threads: 3), Is.EqualTo(one), "three threads");
    }
}
