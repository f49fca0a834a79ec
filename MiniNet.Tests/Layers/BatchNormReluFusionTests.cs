using MiniNet.Layers;
using MiniNet.Optim;

namespace MiniNet.Tests.Layers;

/// <summary>BatchNorm followed by ReLU as one op (<see cref="Ops.BatchNormRelu"/>, and Sequential's use of it) against the
/// two ops: the arithmetic is the same, so values, gradients and running statistics must be bitwise equal.</summary>
[TestFixture]
public class BatchNormReluFusionTests
{
    /// <summary>The bit patterns, so that −0 differs from +0 and NaNs are compared exactly.</summary>
    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

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
    [TestCase(new[] { 6, 3, 11 }, false)]
    [TestCase(new[] { 128, 1024 }, false)]
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
        Assert.That(Bits(f.Y), Is.EqualTo(Bits(u.Y)), "output");
        Assert.That(f.Y.Count(v => v == 0f), Is.GreaterThan(0), "some outputs are clipped");
        Assert.That(Bits(f.Dx), Is.EqualTo(Bits(u.Dx)), "dx");
        Assert.That(Bits(f.Dg), Is.EqualTo(Bits(u.Dg)), "dγ");
        Assert.That(Bits(f.Db), Is.EqualTo(Bits(u.Db)), "dβ");
        Assert.That(Bits(f.Rm), Is.EqualTo(Bits(u.Rm)), "running mean");
        Assert.That(Bits(f.Rv), Is.EqualTo(Bits(u.Rv)), "running variance");
    }

    [TestCase(new[] { 8, 37 })]      // NaNs and exact zeros in the vector lanes and in the scalar tail
    [TestCase(new[] { 3, 4, 21 })]   // (N, C, L)
    public void Eval_NaNAndExactZeros_MatchBatchNormThenRelu_ForwardAndBackward(int[] shape)
    {
        int c = shape[1];
        float[] xs = Tensor.Randn(shape, seed: 7).ToArray(), dz = Tensor.Randn(shape, seed: 8).ToArray();
        foreach (int i in new[] { 0, 13, 17, xs.Length - 1 }) xs[i] = float.NaN;
        foreach (int i in new[] { 1, 18, xs.Length - 2 }) xs[i] = 0f;   // running mean 0, β 0: y is exactly 0 there
        float[] gamma = (Tensor.Rand([c], seed: 9) + 0.5f).ToArray();

        (float[] Y, float[] Dx, float[] Dg, float[] Db) Run(bool fused)
        {
            Tensor x = Leaf(Tensor.FromArray((float[])xs.Clone(), shape)), g = Leaf(Tensor.FromArray((float[])gamma.Clone(), c)),
                b = Leaf(Tensor.Zeros(c));
            Tensor rm = Tensor.Zeros(c), rv = Tensor.Ones(c);
            Tensor y = fused ? x.BatchNormRelu(g, b, rm, rv, training: false) : x.BatchNorm(g, b, rm, rv, training: false).Relu();
            (y * Tensor.FromArray(dz, shape)).Sum().Backward();
            return (y.ToArray(), x.Grad!.ToArray(), g.Grad!.ToArray(), b.Grad!.ToArray());
        }

        var f = Run(fused: true);
        var u = Run(fused: false);
        Assert.That(float.IsNaN(f.Y[13]) && float.IsNaN(f.Y[xs.Length - 1]), Is.True, "NaN propagates");
        Assert.That(f.Dx[1], Is.EqualTo(0f), "the gradient at y = 0 is 0, as for ReLU");
        Assert.That(Bits(f.Y), Is.EqualTo(Bits(u.Y)), "output");
        Assert.That(Bits(f.Dx), Is.EqualTo(Bits(u.Dx)), "dx");
        Assert.That(Bits(f.Dg), Is.EqualTo(Bits(u.Dg)), "dγ");
        Assert.That(Bits(f.Db), Is.EqualTo(Bits(u.Db)), "dβ");
    }

    [Test]
    public void Sequential_UsesTheFusedOp_UnlessTurnedOffOrHooked()
    {
        Tensor x = Leaf(Tensor.Randn([16, 8], seed: 15));
        var model = new Sequential(new BatchNorm1d(8), new ReLU());
        Assert.That(model.Forward(x).ToString(), Does.Contain("grad_fn=batch_norm_relu"));
        model.FuseBatchNormRelu = false;
        Assert.That(model.Forward(x).ToString(), Does.Contain("grad_fn=relu"));
        model.FuseBatchNormRelu = true;
        using (model[0].RegisterForwardHook((_, _, _) => { }))
            Assert.That(model.Forward(x).ToString(), Does.Contain("grad_fn=relu"));
        model.Eval();
        Assert.That(model.Forward(x).ToString(), Does.Contain("grad_fn=batch_norm_eval_relu"));
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
            new Dense(48, 40, bias: false), new BatchNorm1d(40, momentum: null), new ReLU(), new Dense(40, 4))));
        yield return new TestCaseData("no affine", new[] { 32, 20 }, (Func<Sequential>)(() => new Sequential(
            new Dense(20, 48, bias: false), new BatchNorm1d(48, affine: false), new ReLU(), new Dense(48, 4))));
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
        foreach (var (key, value) in unfused) Assert.That(Bits(fused[key]), Is.EqualTo(Bits(value)), $"{name}: {key}");
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
