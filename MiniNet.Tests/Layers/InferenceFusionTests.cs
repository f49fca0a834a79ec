using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Layers;

/// <summary>Sequential's inference fusion (Dense → BatchNorm1d → activation as one op) against the unfused chain.</summary>
[TestFixture]
public class InferenceFusionTests
{
    /// <summary>A model trained for a few steps, so that the running statistics and γ, β are far from their defaults.</summary>
    private static Sequential Trained(params Module[] modules) =>
        TrainedOn(Tensor.Randn([64, modules.OfType<Dense>().First().InFeatures], seed: 5) * 3f + 1f, 5, modules);

    /// <summary><paramref name="modules"/> as a Sequential trained for <paramref name="steps"/> SGD steps on the batch
    /// <paramref name="x"/> (4 classes), left in training mode.</summary>
    internal static Sequential TrainedOn(Tensor x, int steps, params Module[] modules)
    {
        var model = new Sequential(modules);
        int[] y = Enumerable.Range(0, x.Shape[0]).Select(i => i % 4).ToArray();
        var optimizer = new MiniNet.Optim.SGD(model.Parameters(), lr: 0.1f, momentum: 0.9f);
        for (int step = 0; step < steps; step++)
        {
            optimizer.ZeroGrad();
            model.Forward(x).CrossEntropy(y).Backward();
            optimizer.Step();
        }
        return model;
    }

    private static (float[] Fused, float[] Unfused) BothWays(Sequential model, Tensor x)
    {
        using var noGrad = Autograd.NoGrad();
        model.FuseForInference = false;
        float[] unfused = model.Forward(x).ToArray();
        model.FuseForInference = true;
        return (model.Forward(x).ToArray(), unfused);
    }

    private static IEnumerable<TestCaseData> Chains()
    {
        yield return new TestCaseData("Dense-BN-ReLU", (Func<Module[]>)(() => [new Dense(50, 40, bias: false), new BatchNorm1d(40), new ReLU(), new Dense(40, 4)]));
        yield return new TestCaseData("Dense-BN-Sigmoid", (Func<Module[]>)(() => [new Dense(50, 40, bias: false), new BatchNorm1d(40), new Sigmoid(), new Dense(40, 4)]));
        yield return new TestCaseData("Dense-BN", (Func<Module[]>)(() => [new Dense(50, 40, bias: false), new BatchNorm1d(40), new Dense(40, 4, bias: false)]));
        yield return new TestCaseData("biased Dense-BN-ReLU", (Func<Module[]>)(() => [new Dense(50, 40), new BatchNorm1d(40), new ReLU(), new Dense(40, 4)]));
        yield return new TestCaseData("Dense-ReLU", (Func<Module[]>)(() => [new Dense(50, 40), new ReLU(), new Dense(40, 4)]));
        yield return new TestCaseData("no affine BN", (Func<Module[]>)(() => [new Dense(50, 40, bias: false), new BatchNorm1d(40, affine: false), new ReLU(), new Dense(40, 4)]));
        yield return new TestCaseData("mlp widths", (Func<Module[]>)(() => [new Dense(50, 1024, bias: false), new BatchNorm1d(1024), new ReLU(),
            new Dense(1024, 300, bias: false), new BatchNorm1d(300), new ReLU(), new Dense(300, 4)]));
    }

    [TestCaseSource(nameof(Chains))]
    public void Fused_EqualsUnfused(string name, Func<Module[]> build)
    {
        Rng.ManualSeed(3);
        Sequential model = Trained(build());
        model.Eval();
        var (fused, unfused) = BothWays(model, Tensor.Randn([300, 50], seed: 6) * 2f);
        TensorAssert.Close(fused, unfused, atol: 1e-4f, rtol: 1e-4f, what: name);
    }

    private static IEnumerable<TestCaseData> ConvChains()
    {
        yield return new TestCaseData("Conv-BN-ReLU", (Func<Module[]>)(() => [new Conv2d(3, 8, 3, padding: 1, bias: false), new BatchNorm2d(8), new ReLU(), new Flatten(), new Dense(8 * 36, 4)]));
        yield return new TestCaseData("Conv-BN-Sigmoid, stride", (Func<Module[]>)(() => [new Conv2d(3, 8, 3, stride: 2, bias: false), new BatchNorm2d(8), new Sigmoid(), new Flatten(), new Dense(8 * 4, 4)]));
        yield return new TestCaseData("Conv-BN", (Func<Module[]>)(() => [new Conv2d(3, 8, 3, padding: 1, bias: false), new BatchNorm2d(8), new Flatten(), new Dense(8 * 36, 4)]));
        yield return new TestCaseData("biased Conv-ReLU", (Func<Module[]>)(() => [new Conv2d(3, 8, 3, padding: 1), new ReLU(), new Flatten(), new Dense(8 * 36, 4)]));
        yield return new TestCaseData("biased Conv alone", (Func<Module[]>)(() => [new Conv2d(3, 8, 3, padding: 1), new Flatten(), new Dense(8 * 36, 4)]));
    }

    [TestCaseSource(nameof(ConvChains))]
    public void FusedConvolution_EqualsUnfused(string name, Func<Module[]> build)
    {
        Rng.ManualSeed(8);
        Sequential model = TrainedOn(Tensor.Randn([40, 3, 6, 6], seed: 13) * 3f + 1f, 5, build());
        model.Eval();
        var (fused, unfused) = BothWays(model, Tensor.Randn([9, 3, 6, 6], seed: 14) * 2f);
        TensorAssert.Close(fused, unfused, atol: 1e-4f, rtol: 1e-4f, what: name);
    }

    [Test]
    public void FusedConvolution_IsUsed_AndAHookTurnsItOff()
    {
        Rng.ManualSeed(9);
        var model = new Sequential(new Conv2d(3, 8, 3, padding: 1), new BatchNorm2d(8), new ReLU());
        model.Eval();
        var x = Tensor.Randn([4, 3, 6, 6], seed: 15);
        // With a bias, the fused op folds it into the shift (one rounding fewer than adding it, then normalising), so its
        // output differs from the chain's in the last bit somewhere: equal bits everywhere would mean the chain ran.
        var (scale, shift) = InferenceAffine.Of((BatchNorm2d)model[1], 8);
        var conv = (Conv2d)model[0];
        using var noGrad = Autograd.NoGrad();
        float[] direct = x.Conv2dAffine(conv.Weight, conv.Bias, scale, shift, FusedActivation.Relu, 1, 1).ToArray();
        Assert.That(model.Forward(x).ToArray(), Is.EqualTo(direct), "Sequential ran Conv2dAffine");
        model.FuseForInference = false;
        Assert.That(model.Forward(x).ToArray().Zip(direct).Any(p => p.First != p.Second), Is.True,
            "the unfused chain rounds differently: the check above can tell them apart");
        model.FuseForInference = true;
        float[]? seen = null;
        using (model[1].RegisterForwardHook((_, _, output) => seen = output.ToArray()))
            model.Forward(x);
        Assert.That(seen!.Any(v => v < 0f), Is.True, "with a hook the BatchNorm ran on its own, before the ReLU");
    }

    [Test]
    public void InTraining_OrWithGrad_NothingIsFused()
    {
        Rng.ManualSeed(4);
        Sequential model = Trained(new Dense(20, 8, bias: false), new BatchNorm1d(8), new ReLU(), new Dense(8, 4));
        var x = Tensor.Randn([16, 20], seed: 7);
        // Training mode under NoGrad: batch statistics, so the BatchNorm cannot be folded; the Dense + ReLU alone is not
        // fused around it either. The running statistics move exactly as without fusion.
        var before = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        using (Autograd.NoGrad()) model.Forward(x);
        var runningAfterFusedCall = model.StateDict()["1.running_mean"].ToArray();
        model.LoadStateDict(before.ToDictionary(kv => kv.Key, kv => Tensor.FromArray(kv.Value, [.. model.StateDict()[kv.Key].Shape])));
        model.FuseForInference = false;
        using (Autograd.NoGrad()) model.Forward(x);
        Assert.That(runningAfterFusedCall, Is.EqualTo(model.StateDict()["1.running_mean"].ToArray()));

        // Evaluation with gradients recorded: a graph is built through every module.
        model.Eval();
        model.FuseForInference = true;
        Tensor y = model.Forward(x);
        Assert.That(y.RequiresGrad, Is.True);
        y.Sum().Backward();
        Assert.That(((Dense)model[0]).Weight.Grad, Is.Not.Null);
    }

    [Test]
    public void ForwardHook_SeesTheBatchNormOutput_FusionStepsAside()
    {
        Rng.ManualSeed(5);
        Sequential model = Trained(new Dense(20, 8, bias: false), new BatchNorm1d(8), new ReLU(), new Dense(8, 4));
        model.Eval();
        var x = Tensor.Randn([16, 20], seed: 8);
        float[]? seen = null;
        using (model[1].RegisterForwardHook((_, _, output) => seen = output.ToArray()))
        using (Autograd.NoGrad())
            model.Forward(x);
        Assert.That(seen, Is.Not.Null, "the BatchNorm's hook ran");
        Assert.That(seen!.Any(v => v < 0f), Is.True, "the hook saw the BatchNorm's output, before the ReLU");
    }

    [Test]
    public void BatchNormWithoutRunningStatistics_IsNotFolded()
    {
        Rng.ManualSeed(6);
        var model = new Sequential(new Dense(20, 8, bias: false), new BatchNorm1d(8, trackRunningStats: false), new ReLU());
        model.Eval();
        var (fused, unfused) = BothWays(model, Tensor.Randn([16, 20], seed: 9));
        Assert.That(fused, Is.EqualTo(unfused));   // batch statistics: computed exactly as without fusion
        var untracked = new BatchNorm1d(8, trackRunningStats: false);
        untracked.Eval();
        Assert.That(untracked.UsesBatchStatistics, Is.True);
        Assert.Throws<InvalidOperationException>(() => InferenceAffine.Of(untracked, 8));
    }

    [Test]
    public void InferenceAffine_MatchesTheEvaluationOutput()
    {
        Rng.ManualSeed(7);
        Sequential model = Trained(new Dense(20, 8, bias: false), new BatchNorm1d(8), new Dense(8, 4));
        var norm = (BatchNorm1d)model[1];
        Assert.That(norm.UsesBatchStatistics, Is.True, "training mode");
        Assert.Throws<InvalidOperationException>(() => InferenceAffine.Of(norm, 8), "training mode");
        norm.Eval();
        Assert.That(norm.UsesBatchStatistics, Is.False);
        var (scale, shift) = InferenceAffine.Of(norm, 8);
        var x = Tensor.Randn([10, 8], seed: 10);
        float[] expected = norm.Forward(x).ToArray(), xs = x.ToArray();
        float[] actual = xs.Select((v, i) => v * scale[i % 8] + shift[i % 8]).ToArray();
        TensorAssert.Close(actual, expected, atol: 1e-5f, rtol: 1e-5f);
        Assert.Throws<ArgumentException>(() => InferenceAffine.Of(norm, 7));
    }

    [Test]
    public void LinearAffine_RefusesToRecordAGraph_AndChecksShapes()
    {
        var w = Tensor.Randn([3, 4], seed: 11);
        w.RequiresGrad = true;
        var x = Tensor.Randn([2, 4], seed: 12);
        float[] s = [1f, 2f, 3f], t = [0f, 1f, 2f];
        var e = Assert.Throws<InvalidOperationException>(() => x.LinearAffine(w, null, s, t, FusedActivation.Relu));
        Assert.That(e!.Message, Does.Contain("NoGrad"));
        using (Autograd.NoGrad())
        {
            Tensor y = x.LinearAffine(w, null, s, t, FusedActivation.None);
            TensorAssert.Close(y, (x.MatMul(w.T()) * Tensor.FromArray(s, 3) + Tensor.FromArray(t, 3)).ToArray(), atol: 1e-5f);
            Assert.That(Assert.Throws<ArgumentException>(() => x.LinearAffine(w, null, [1f, 2f], t, FusedActivation.None))!.Message,
                Does.Contain("3 values").And.Contain("got 2"));
            Assert.Throws<ArgumentException>(() => Tensor.Randn([2, 5], seed: 1).LinearAffine(w, null, s, t, FusedActivation.None));
            Assert.Throws<ArgumentOutOfRangeException>(() => x.LinearAffine(w, null, s, t, (FusedActivation)7));
        }
    }
}
