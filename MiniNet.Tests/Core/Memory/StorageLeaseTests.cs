using System.Runtime.CompilerServices;
using MiniNet.Layers;
using MiniNet.Optim;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Memory;

/// <summary>Tensors made outside any scope take pooled storage that comes back once they are unreachable: what a
/// program still holds (a tensor, a view, a span of its data, a parameter made from it) is never recycled under it.</summary>
[TestFixture, NonParallelizable]   // forces collections and reads the pool's process-wide counters
public class StorageLeaseTests
{
    private const int Length = 4096;   // pooled: above BufferPool.MinPooledLength

    private static void CollectEverything()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    /// <summary>Unreachable tensors of the given length, whose arrays then wait in the pool for the next op outputs.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void MakeGarbage(Tensor x, int count)
    {
        for (int i = 0; i < count; i++) _ = x.Exp();
    }

    /// <summary>Op outputs of <paramref name="x"/>'s length, each overwriting whatever array the pool hands out.</summary>
    private static void Overwrite(Tensor x, int count)
    {
        for (int i = 0; i < count; i++)
        {
            Tensor y = x.Neg();
            Assert.That(y.Values[0], Is.EqualTo(-x.Values[0]));
        }
    }

    [Test]
    public void UnreachableOutputs_GoBackToThePool_AndAreReused()
    {
        Tensor x = TestData.Uniform([Length], 1);
        CollectEverything();
        long before = BufferPool.LeasedBytes;
        MakeGarbage(x, 50);
        Assert.That(BufferPool.LeasedBytes - before, Is.GreaterThanOrEqualTo(50L * 4 * Length), "each output leased pooled storage");
        CollectEverything();
        Assert.That(BufferPool.LeasedBytes - before, Is.LessThanOrEqualTo(0), "their leases ended once nothing reached them");
        long pooled = BufferPool.PooledBytes;
        Tensor y = x.Exp();
        Assert.That(BufferPool.PooledBytes, Is.EqualTo(pooled - 4L * Length), "the next output reused a returned array");
        GC.KeepAlive(y);
    }

    [Test]
    public void HeldTensorsAndViews_KeepTheirValues()
    {
        Tensor x = TestData.Uniform([Length], 2);
        var held = new List<Tensor>();
        for (int i = 0; i < 20; i++) held.Add(x.Mul(i + 1));
        Tensor view = x.Sigmoid().Reshape(64, 64);   // the viewed tensor itself is held by nothing but the view
        float[][] expected = held.Select(t => t.ToArray()).ToArray();
        float[] expectedView = view.ToArray();
        for (int round = 0; round < 5; round++)
        {
            MakeGarbage(x, 20);
            CollectEverything();
            Overwrite(x, 40);
        }
        for (int i = 0; i < held.Count; i++) Assert.That(held[i].ToArray(), Is.EqualTo(expected[i]), $"held tensor {i}");
        Assert.That(view.ToArray(), Is.EqualTo(expectedView), "a view keeps the storage it shares");
    }

    [Test]
    public void SpansOfData_AndParametersMadeFromOutputs_KeepTheirValues()
    {
        Tensor x = TestData.Uniform([Length], 3);
        Span<float> span = SpanOfUnreachableOutput(x);   // nothing reaches the tensor any more, only its array
        var parameter = new Parameter(x.Exp());          // shares the output's array without holding the output
        float[] expectedSpan = x.ToArray().Select(v => v * 3f).ToArray();
        float[] expectedParameter = x.ToArray().Select(MathF.Exp).ToArray();
        for (int round = 0; round < 5; round++)
        {
            CollectEverything();
            Overwrite(x, 40);
        }
        Assert.That(span.ToArray(), Is.EqualTo(expectedSpan), "a span handed out by Data is never recycled under its reader");
        TensorAssert.Close(parameter, expectedParameter, atol: 1e-6f);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Span<float> SpanOfUnreachableOutput(Tensor x) => x.Mul(3f).Data;

    [Test]
    public void TrainingWithoutScope_UnderConstantCollections_MatchesTheScopedRunBitwise()
    {
        (float[] losses, float[] weights) Run(bool scoped)
        {
            Rng.ManualSeed(7);
            var model = new Sequential(
                new Conv2d(1, 8, 3, padding: 1, bias: false), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
                new Flatten(), new Dense(8 * 8 * 8, 64, bias: false), new BatchNorm1d(64), new ReLU(), new Dense(64, 10));
            var optimizer = new SGD(model.Parameters(), lr: 0.05f, momentum: 0.9f);
            float[] images = TestData.Uniform([32 * 256], 8).ToArray();
            int[] labels = Enumerable.Range(0, 32).Select(i => i % 10).ToArray();
            var losses = new List<float>();
            for (int step = 0; step < 25; step++)
            {
                using TensorScope? scope = scoped ? TensorScope.Begin() : null;
                Tensor batch = Tensor.FromSpan(images, 32, 1, 16, 16);
                optimizer.ZeroGrad();
                Tensor loss = model.Forward(batch).CrossEntropy(labels);
                loss.Backward();
                optimizer.Step();
                losses.Add(loss.Item());
            }
            return (losses.ToArray(), model.Parameters().SelectMany(p => p.ToArray()).ToArray());
        }

        (float[] expectedLosses, float[] expectedWeights) = Run(scoped: true);
        using var stop = new CancellationTokenSource();
        var collector = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect(1, GCCollectionMode.Forced, blocking: true);
                GC.WaitForPendingFinalizers();
            }
        });
        (float[] losses, float[] weights) = Run(scoped: false);
        stop.Cancel();
        collector.Wait();
        Assert.That(losses, Is.EqualTo(expectedLosses));
        Assert.That(weights, Is.EqualTo(expectedWeights));
    }
}
