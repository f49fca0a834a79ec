using System.Text.Json;
using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Layers;

[TestFixture]
public class BatchNormTests
{
    private static IEnumerable<TestCaseData> PyTorchCases() =>
        Fixture.Load("batchnorm.json").GetProperty("cases").EnumerateArray()
            .Select(c => new TestCaseData(c.GetProperty("name").GetString()).SetName($"BatchNorm_{c.GetProperty("name").GetString()}_MatchesPyTorch"));

    [TestCaseSource(nameof(PyTorchCases))]
    public void BatchNorm_MatchesPyTorch(string name)
    {
        JsonElement c = Fixture.Load("batchnorm.json").GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        int features = c.GetProperty("num_features").GetInt32();
        float eps = c.GetProperty("eps").GetSingle();
        float? momentum = c.GetProperty("momentum").ValueKind == JsonValueKind.Null ? null : c.GetProperty("momentum").GetSingle();
        bool affine = c.GetProperty("affine").GetBoolean(), track = c.GetProperty("track_running_stats").GetBoolean();
        int[] shape = c.GetProperty("shape").Ints();
        BatchNorm layer = c.GetProperty("kind").GetString() == "BatchNorm2d"
            ? new BatchNorm2d(features, eps, momentum, affine, track)
            : new BatchNorm1d(features, eps, momentum, affine, track);
        if (affine)
        {
            c.GetProperty("weight").Floats().CopyTo(layer.Weight!.Data);
            c.GetProperty("bias").Floats().CopyTo(layer.Bias!.Data);
        }

        int step = 0;
        foreach (JsonElement s in c.GetProperty("steps").EnumerateArray())
        {
            string at = $"{name} step {step++}";
            var x = Tensor.FromArray(s.GetProperty("x").Floats(), shape);
            x.RequiresGrad = true;
            layer.ZeroGrad();
            Tensor y = layer.Forward(x);
            y.Backward(Tensor.FromArray(s.GetProperty("r").Floats(), shape));
            TensorAssert.Close(y.Data, s.GetProperty("y").Floats(), atol: 1e-5f, rtol: 1e-4f, what: at + " y");
            TensorAssert.Close(x.Grad!.Data, s.GetProperty("dx").Floats(), atol: 1e-5f, rtol: 1e-4f, what: at + " dx");
            if (affine)
            {
                TensorAssert.Close(layer.Weight!.Grad!.Data, s.GetProperty("dweight").Floats(), atol: 1e-4f, rtol: 1e-4f, what: at + " dγ");
                TensorAssert.Close(layer.Bias!.Grad!.Data, s.GetProperty("dbias").Floats(), atol: 1e-4f, rtol: 1e-4f, what: at + " dβ");
            }
            if (track)
            {
                TensorAssert.Close(layer.RunningMean!.Data, s.GetProperty("running_mean").Floats(), atol: 1e-6f, rtol: 1e-5f, what: at + " running_mean");
                TensorAssert.Close(layer.RunningVar!.Data, s.GetProperty("running_var").Floats(), atol: 1e-6f, rtol: 1e-5f, what: at + " running_var");
                Assert.That(layer.NumBatchesTracked!.Item(), Is.EqualTo(s.GetProperty("num_batches_tracked").GetInt32()), at);
            }
        }
        layer.Eval();
        using (MiniNet.Autograd.NoGrad())
        {
            Tensor y = layer.Forward(Tensor.FromArray(c.GetProperty("eval_x").Floats(), shape));
            TensorAssert.Close(y.Data, c.GetProperty("eval_y").Floats(), atol: 1e-5f, rtol: 1e-4f, what: name + " eval");
        }
    }

    /// <summary>The same normalisation composed of primitive ops, with gradients flowing through μ and σ².</summary>
    private static Tensor Composite(Tensor x, Tensor gamma, Tensor beta, float eps)
    {
        int[] axes = x.Rank == 2 ? [0] : x.Rank == 3 ? [0, 2] : [0, 2, 3];
        int[] channelShape = x.Rank == 2 ? [1, x.Size(1)] : x.Rank == 3 ? [1, x.Size(1), 1] : [1, x.Size(1), 1, 1];
        Tensor mean = x.Mean(axes, keepDim: true);
        Tensor variance = x.Var(axes, unbiased: false, keepDim: true);
        Tensor xhat = (x - mean) / (variance + eps).Sqrt();
        return xhat * gamma.Reshape(channelShape) + beta.Reshape(channelShape);
    }

    [TestCase(new[] { 8, 5 })]
    [TestCase(new[] { 4, 3, 6 })]
    [TestCase(new[] { 3, 4, 5, 2 })]
    public void Fused_EqualsCompositeOfPrimitiveOps(int[] shape)
    {
        int c = shape[1];
        Tensor x1 = TestData.Uniform(shape, 1, -2f, 3f), g1 = TestData.Uniform([c], 2, 0.5f, 1.5f), b1 = TestData.Uniform([c], 3);
        Tensor x2 = x1.Clone(), g2 = g1.Clone(), b2 = b1.Clone();
        foreach (Tensor t in new[] { x1, g1, b1, x2, g2, b2 }) t.RequiresGrad = true;
        Tensor r = TestData.Uniform(shape, 4);
        Tensor fused = x1.BatchNorm(g1, b1, null, null, training: true);
        Tensor composite = Composite(x2, g2, b2, 1e-5f);
        TensorAssert.Close(fused, composite, atol: 1e-5f, rtol: 1e-4f);
        fused.Backward(r);
        composite.Backward(r);
        TensorAssert.Close(x1.Grad!, x2.Grad!, atol: 1e-5f, rtol: 1e-3f);
        TensorAssert.Close(g1.Grad!, g2.Grad!, atol: 1e-5f, rtol: 1e-4f);
        TensorAssert.Close(b1.Grad!, b2.Grad!, atol: 1e-5f, rtol: 1e-4f);
    }

    [TestCase(new[] { 6, 3 })]
    [TestCase(new[] { 3, 2, 4 })]
    [TestCase(new[] { 2, 3, 3, 2 })]
    public void Training_GradientsMatchNumerical(int[] shape)
    {
        int c = shape[1];
        TensorAssert.GradientsMatch(v => v[0].BatchNorm(v[1], v[2], null, null, training: true),
            TestData.Uniform(shape, 5), TestData.Uniform([c], 6, 0.5f, 1.5f), TestData.Uniform([c], 7));
    }

    [Test]
    public void Eval_GradientsMatchNumerical()
    {
        Tensor rm = TestData.Uniform([3], 8), rv = TestData.Uniform([3], 9, 0.5f, 2f);
        TensorAssert.GradientsMatch(v => v[0].BatchNorm(v[1], v[2], rm, rv, training: false),
            TestData.Uniform([4, 3, 2], 10), TestData.Uniform([3], 11, 0.5f, 1.5f), TestData.Uniform([3], 12));
    }

    [Test]
    public void Layer_GradientWithRespectToInput_MatchesNumerical()
    {
        var layer = new BatchNorm2d(2);
        TensorAssert.GradientsMatch(v => layer.Forward(v[0]), TestData.Uniform([3, 2, 2, 2], 13));
    }

    [Test]
    public void Training_OutputHasZeroMeanUnitVariancePerChannel()
    {
        var layer = new BatchNorm2d(3);
        Tensor y = layer.Forward(TestData.Uniform([8, 3, 4, 4], 14, 5f, 9f));
        Tensor mean = y.Mean([0, 2, 3]), variance = y.Var([0, 2, 3], unbiased: false);
        TensorAssert.Close(mean.Data, new float[3], atol: 1e-5f);
        TensorAssert.Close(variance.Data, [1, 1, 1], atol: 1e-3f);
    }

    [Test]
    public void Eval_NeverUpdatesRunningStatistics()
    {
        var layer = new BatchNorm1d(4);
        layer.Forward(TestData.Uniform([5, 4], 15));
        float[] mean = layer.RunningMean!.ToArray(), variance = layer.RunningVar!.ToArray();
        layer.Eval();
        layer.Forward(TestData.Uniform([5, 4], 16, 10f, 20f));
        Assert.That(layer.RunningMean.ToArray(), Is.EqualTo(mean));
        Assert.That(layer.RunningVar.ToArray(), Is.EqualTo(variance));
        Assert.That(layer.NumBatchesTracked!.Item(), Is.EqualTo(1f));
    }

    [Test]
    public void RunningVariance_UsesUnbiasedBatchVariance()
    {
        // One batch of m = 4 values [0, 2, 4, 6]: mean 3, biased variance 5, unbiased 20/3.
        var layer = new BatchNorm1d(1, momentum: 0.5f);
        layer.Forward(Tensor.FromArray([0, 2, 4, 6], 4, 1));
        Assert.That(layer.RunningMean![0], Is.EqualTo(0.5f * 0 + 0.5f * 3).Within(1e-6f));
        Assert.That(layer.RunningVar![0], Is.EqualTo(0.5f * 1 + 0.5f * 20f / 3f).Within(1e-6f));
    }

    [Test]
    public void OneValuePerChannelInTraining_Throws_AndLeavesStateUnchanged()
    {
        var layer = new BatchNorm1d(100);
        var ex = Assert.Throws<ArgumentException>(() => layer.Forward(Tensor.Zeros(1, 100)));
        Assert.That(ex!.Message, Does.Contain("more than 1 value per channel").And.Contain("(1, 100)"));
        Assert.That(layer.NumBatchesTracked!.Item(), Is.EqualTo(0f));
        Assert.That(layer.RunningMean!.ToArray(), Is.All.EqualTo(0f));
        layer.Eval();
        Assert.DoesNotThrow(() => layer.Forward(Tensor.Zeros(1, 100)));
    }

    [Test]
    public void WrongChannelCountOrRank_ThrowsNamingShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => new BatchNorm1d(100).Forward(Tensor.Zeros(32, 50)));
        Assert.That(ex!.Message, Does.Contain("BatchNorm1d(100)").And.Contain("(32, 50)"));
        ex = Assert.Throws<ArgumentException>(() => new BatchNorm2d(3).Forward(Tensor.Zeros(2, 3, 4)));
        Assert.That(ex!.Message, Does.Contain("(N, 3, H, W)").And.Contain("(2, 3, 4)"));
    }

    [Test]
    public void Constructor_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BatchNorm1d(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BatchNorm1d(3, eps: 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BatchNorm2d(3, momentum: 1.5f));
    }

    [Test]
    public void StateDict_HasPyTorchKeys()
    {
        Assert.That(new BatchNorm2d(3).StateDict().Keys,
            Is.EqualTo(new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }));
        Assert.That(new BatchNorm1d(3, affine: false, trackRunningStats: false).StateDict().Keys, Is.Empty);
    }

    [Test]
    public void LargeMeanSmallVariance_StaysAccurate()
    {
        // 1e4 + N(0, 0.1²): float32 sums would lose the spread; the kernel accumulates in double.
        Tensor noise = Tensor.Randn([256, 2], seed: 17) * 0.1f;
        Tensor x = noise + 1e4f;
        Tensor y = x.BatchNorm(null, null, null, null, training: true);
        for (int ch = 0; ch < 2; ch++)
        {
            double[] column = Enumerable.Range(0, 256).Select(i => (double)x[i, ch]).ToArray();
            double mu = column.Average(), sd = Math.Sqrt(column.Select(v => (v - mu) * (v - mu)).Average() + 1e-5);
            for (int i = 0; i < 256; i++)
                Assert.That(y[i, ch], Is.EqualTo((column[i] - mu) / sd).Within(2e-3), $"row {i}, channel {ch}");
        }
    }
}
