using MiniNet.Layers;
using MiniNet.Optim;

namespace MiniNet.Tests.Layers;

/// <summary>BatchNorm followed by ReLU as one op (<see cref="Ops.BatchNormRelu"/>, and Sequential's use of it) against the
/// two ops: the arithmetic is the same, so values, gradients and running statistics must be bitwise equal.</summary>
[TestFixture]
public class BatchNormReluFusionTests
{
    private static Tensor Leaf(Tensor t)
    {
        t.RequiresGrad = true;
        return t;
    }

    [TestCase(new[] { 37, 70 }, true)]
    [TestCase(new[] { 37, 70 }, false)]
    [TestCase(new[] { 128, 1024 }, true)]
    [TestCase(new[] { 4, 5, 7, 7 }, true)]
    [TestCase(new[] { 4, 5, 7, 7 }, false)]
    [TestCase(new[] { 6, 3, 11 }, true)]
    public void Op_EqualsBatchNormThenRelu_ValuesGradientsAndRunningStatistics(int[] shape, bool training)
    {
        int c = shape[1];
        float[] x0 = (Tensor.Randn(shape, seed: 1) * 2f + 0.3f).ToArray(), dz = Tensor.Randn(shape, seed: 2).ToArray();
        float[] gamma0 = (Tensor.Randn([c], seed: 3) + 1f).ToArray(), beta0 = Tensor.Randn([c], seed: 4).ToArray();
        float[] mean0 = Tensor.Randn([c], seed: 5).ToArray(), var0 = (Tensor.Rand([c], seed: 6) + 0.5f).ToArray();

        (float[] Y, float[] Dx, float[] Dg, float[] Db, float[] Rm, float[] Rv) Run(bool fused)
        {
            Tensor x = Leaf(Tensor.FromArray((float[])x0.Clone(), shape)), g = Leaf(Tensor.FromArray((float[])gamma0.Clone(), c)),
                b = Leaf(Tensor.FromArray((float[])beta0.Clone(), c));
            Tensor rm = Tensor.FromArray((float[])mean0.Clone(), c), rv = Tensor.FromArray((float[])var0.Clone(), c);
            Tensor y = fused
                ? x.BatchNormRelu(g, b, rm, rv, training, factor: 0.1f, eps: 1e-5f)
                : x.BatchNorm(g, b, rm, rv, training, factor: 0.1f, eps: 1e-5f).Relu();
            (y * Tensor.FromArray(dz, shape)).Sum().Backward();
            return (y.ToArray(), x.Grad!.ToArray(), g.Grad!.ToArray(), b.Grad!.ToArray(), rm.ToArray(), rv.ToArray());
        }

        var f = Run(fused: true);
        var u = Run(fused: false);
        Assert.That(f.Y, Is.EqualTo(u.Y), "output");
        Assert.That(f.Y.Count(v => v == 0f), Is.GreaterThan(0), "some outputs are clipped");
        Assert.That(f.Dx, Is.EqualTo(u.Dx), "dx");
        Assert.That(f.Dg, Is.EqualTo(u.Dg), "dγ");
        Assert.That(f.Db, Is.EqualTo(u.Db), "dβ");
        Assert.That(f.Rm, Is.EqualTo(u.Rm), "running mean");
        Assert.That(f.Rv, Is.EqualTo(u.Rv), "running variance");
    }

    [Test]
    public void Op_PropagatesNaN_AsRelu()
    {
        float[] xs = Tensor.Randn([8, 5], seed: 7).ToArray();
        xs[13] = float.NaN;
        Tensor x = Tensor.FromArray(xs, 8, 5), rm = Tensor.Zeros(5), rv = Tensor.Ones(5);
        float[] fused = x.BatchNormRelu(null, null, rm, rv, training: false).ToArray();
        Assert.That(float.IsNaN(fused[13]), Is.True);
        Assert.That(fused, Is.EqualTo(x.BatchNorm(null, null, rm, rv, training: false).Relu().ToArray()));
    }

    [Test]
    public void Op_RejectsBadInput_AsBatchNorm()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(4, 3).BatchNormRelu(Tensor.Ones(2), null, null, null, training: true));
        Assert.That(e!.Message, Does.Contain("3 channels"));
    }

    private static IEnumerable<TestCaseData> Models()
    {
        yield return new TestCaseData("mlp", new[] { 32, 20 }, (Func<Sequential>)(() => new Sequential(
            new Dense(20, 48, bias: false), new BatchNorm1d(48), new ReLU(),
            new Dense(48, 40, bias: false), new BatchNorm1d(40), new ReLU(), new Dense(40, 4))));
        yield return new TestCaseData("cnn", new[] { 8, 1, 10, 10 }, (Func<Sequential>)(() => new Sequential(
            new Conv2d(1, 6, 3, padding: 1, bias: false), new BatchNorm2d(6), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Dense(150, 16, bias: false), new BatchNorm1d(16), new ReLU(), new Dense(16, 4))));
    }

    [TestCaseSource(nameof(Models))]
    public void Sequential_TrainsExactlyAsUnfused(string name, int[] inputShape, Func<Sequential> build)
    {
        Dictionary<string, float[]> Train(bool fuse)
        {
            Rng.ManualSeed(11);
            Sequential model = build();
            model.FuseBatchNormRelu = fuse;
            var optimizer = new SGD(model.Parameters(), lr: 0.1f, momentum: 0.9f);
            var x = Tensor.Randn(inputShape, seed: 12);
            int[] y = Enumerable.Range(0, inputShape[0]).Select(i => i % 4).ToArray();
            for (int step = 0; step < 4; step++)
            {
                optimizer.ZeroGrad();
                model.Forward(x).CrossEntropy(y).Backward();
                optimizer.Step();
            }
            model.Eval();
            var state = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
            state["eval output"] = model.Forward(x).ToArray();
            return state;
        }

        var fused = Train(fuse: true);
        var unfused = Train(fuse: false);
        foreach (var (key, value) in unfused) Assert.That(fused[key], Is.EqualTo(value), $"{name}: {key}");
    }

    [Test]
    public void ForwardHookOnTheRelu_SeesItsInput_FusionStepsAside()
    {
        Rng.ManualSeed(13);
        var model = new Sequential(new Dense(10, 8, bias: false), new BatchNorm1d(8), new ReLU());
        float[]? input = null;
        using (model[2].RegisterForwardHook((_, x, _) => input = x.ToArray()))
            model.Forward(Tensor.Randn([16, 10], seed: 14));
        Assert.That(input, Is.Not.Null, "the ReLU ran as a module");
        Assert.That(input!.Any(v => v < 0f), Is.True, "its input is the BatchNorm's output");
    }
}
