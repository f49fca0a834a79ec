using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Optim;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Reliability;

/// <summary>What may run on several threads at once: inference on one model, yes (its evaluation-mode forward pass
/// reads the model and writes only its own outputs); training one model, no (a training-mode BatchNorm updates its
/// running statistics), which is detected and refused.</summary>
[TestFixture]
public class ConcurrencyTests
{
    private static Sequential TrainedCnn()
    {
        Rng.ManualSeed(31);
        var model = new Sequential(
            new Conv2d(1, 8, 3, padding: 1, bias: false), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Dense(8 * 14 * 14, 32, bias: false), new BatchNorm1d(32), new Sigmoid(), new Dense(32, 10));
        var data = new TensorDataset(Tensor.Randn([128, 1, 28, 28], seed: 32), Enumerable.Range(0, 128).Select(i => i % 10).ToArray());
        var optimizer = new SGD(model.Parameters(), 0.05f, momentum: 0.9f);
        foreach (var (x, y) in new DataLoader(data, 32, shuffle: true, seed: 33))
        {
            optimizer.ZeroGrad();
            model.Forward(x).CrossEntropy(y).Backward();
            optimizer.Step();
        }
        model.Eval();
        return model;
    }

    /// <summary>Two threads, each running 100 evaluation-mode forward passes on its own inputs through the module path
    /// (recording off or on), the fused path (under NoGrad) and the frozen model: 600 outputs, each bitwise equal to the
    /// same pass on one thread.</summary>
    [Test]
    public void Inference_OnTwoThreads_EqualsOneThreadBitwise()
    {
        Sequential model = TrainedCnn();
        FrozenSequential frozen = model.Freeze();
        const int passes = 100;
        Tensor[] inputs = Enumerable.Range(0, 2 * passes).Select(i => Tensor.Randn([1 + i % 5, 1, 28, 28], seed: 100 + i)).ToArray();
        Func<Tensor, Tensor>[] paths =
        [
            x => model.Forward(x).Detach(),                              // the module path, recording a graph
            x => { using (Autograd.NoGrad()) return model.Forward(x); }, // fused under NoGrad
            x => { using (Autograd.NoGrad()) return frozen.Forward(x); },
        ];
        float[][][] expected = paths.Select(path => inputs.Select(x => path(x).ToArray()).ToArray()).ToArray();

        var actual = new float[paths.Length][][];
        for (int p = 0; p < paths.Length; p++) actual[p] = new float[inputs.Length][];
        using var start = new Barrier(2);
        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = t * passes; i < (t + 1) * passes; i++)
                for (int p = 0; p < paths.Length; p++) actual[p][i] = paths[p](inputs[i]).ToArray();
        })).ToArray();
        foreach (Thread thread in threads) thread.Start();
        foreach (Thread thread in threads) thread.Join();

        int equal = 0;
        for (int p = 0; p < paths.Length; p++)
            for (int i = 0; i < inputs.Length; i++)
            {
                Assert.That(actual[p][i], Is.EqualTo(expected[p][i]), $"path {p}, input {i}");
                equal++;
            }
        Assert.That(equal, Is.EqualTo(2 * passes * paths.Length));
    }

    /// <summary>A training-mode forward pass of a BatchNorm while another thread's is inside it is refused, naming the
    /// rule; the first pass completes and its update counts (none is lost).</summary>
    [Test]
    public void TrainingOnTwoThreads_IsRefused_AndNoUpdateIsLost()
    {
        var norm = new BatchNorm1d(4);
        Tensor x = TestData.Uniform([16, 4], 34);
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        // The first thread's pass holds the layer until released, so the second thread's pass is sure to overlap it.
        Tensor Blocking(Tensor input, Tensor? w, Tensor? b, Tensor? mean, Tensor? variance, bool training, float momentum, float eps)
        {
            inside.Set();
            release.Wait();
            return input.BatchNorm(w, b, mean, variance, training, momentum, eps);
        }
        var first = new Thread(() => norm.Normalize(x, Blocking));
        first.Start();
        inside.Wait();
        var ex = Assert.Throws<InvalidOperationException>(() => norm.Forward(x));
        release.Set();
        first.Join();
        Assert.That(ex!.Message, Does.Contain("BatchNorm1d(4)").And.Contain("another thread").And.Contain("single-threaded"));
        Assert.That(norm.NumBatchesTracked!.ToInt64Array(), Is.EqualTo(new long[] { 1 }), "the first pass's update");
        norm.Forward(x);
        Assert.That(norm.NumBatchesTracked!.ToInt64Array(), Is.EqualTo(new long[] { 2 }), "the layer is free again");
    }
}
