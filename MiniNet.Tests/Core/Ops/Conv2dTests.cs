using MiniNet.Kernels.Reference;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Ops;

[TestFixture]
public class Conv2dTests
{
    [TestCase(2, 3, 7, 6, 4, 3, 1, 0, true)]
    [TestCase(2, 3, 7, 6, 4, 3, 1, 1, false)]
    [TestCase(3, 2, 9, 9, 5, 3, 2, 1, true)]
    [TestCase(1, 4, 5, 5, 3, 1, 1, 0, true)]     // 1×1: no unfolding
    [TestCase(2, 1, 28, 28, 8, 5, 2, 2, false)]
    [TestCase(3, 2, 6, 8, 2, 2, 2, 0, false)]    // non-overlapping windows
    [TestCase(2, 2, 4, 3, 3, 5, 1, 2, true)]     // "same" 5×5 on a 3-wide image: shifts as wide as the row
    public void Conv2d_MatchesDirectLoops(int n, int c, int h, int w, int o, int k, int stride, int padding, bool withBias)
    {
        Tensor x = TestData.Uniform([n, c, h, w], 1), weight = TestData.Uniform([o, c, k, k], 2);
        Tensor? bias = withBias ? TestData.Uniform([o], 3) : null;
        Tensor y = x.Conv2d(weight, bias, stride, padding);
        float[] expected = ConvReference.Forward(x.ToArray(), n, c, h, w, weight.ToArray(), o, k, k, bias?.ToArray(),
            stride, padding, out int oh, out int ow);
        TensorAssert.Close(y, expected, [n, o, oh, ow], atol: 1e-5f, rtol: 1e-4f);
    }

    [TestCase(1, 0, true)]
    [TestCase(2, 1, true)]
    [TestCase(1, 1, false)]
    [TestCase(2, 0, false)]
    public void Conv2d_GradientsMatchNumerical(int stride, int padding, bool withBias)
    {
        Tensor x = TestData.Uniform([2, 2, 5, 5], 4), weight = TestData.Uniform([3, 2, 3, 3], 5);
        if (withBias)
            TensorAssert.GradientsMatch(v => v[0].Conv2d(v[1], v[2], stride, padding), x, weight, TestData.Uniform([3], 6));
        else
            TensorAssert.GradientsMatch(v => v[0].Conv2d(v[1], null, stride, padding), x, weight);
    }

    [Test]
    public void Conv2d_OneByOne_GradientsMatchNumerical() =>
        TensorAssert.GradientsMatch(v => v[0].Conv2d(v[1]), TestData.Uniform([2, 3, 3, 4], 7), TestData.Uniform([2, 3, 1, 1], 8));

    [NonParallelizable]   // changes the global thread count for a moment
    [TestCase(1, 64)]   // one large image: its products use every thread
    [TestCase(3, 32)]   // three groups of one image for dW
    [TestCase(4, 32)]   // images split over threads
    [TestCase(7, 32)]   // four groups of unequal size
    public void Conv2d_ThreadedPaths_EqualOneThreadBitwise(int n, int hw)
    {
        // Large enough (8 channels, 3×3 "same") that the batch takes a threaded path. Every output and gradient is
        // bitwise the same on any thread count (three threads on two cores still cut the work in three).
        const int c = 8, o = 5;
        Tensor x = TestData.Uniform([n, c, hw, hw], 11), w = TestData.Uniform([o, c, 3, 3], 12);
        Tensor upstream = TestData.Uniform([n, o, hw, hw], 13);
        (float[] Y, float[] Dx, float[] Dw) Run()
        {
            Tensor xi = x.Clone(), wi = w.Clone();
            xi.RequiresGrad = true;
            wi.RequiresGrad = true;
            Tensor y = xi.Conv2d(wi, padding: 1);
            (y * upstream).Sum().Backward();
            return (y.ToArray(), xi.Grad!.ToArray(), wi.Grad!.ToArray());
        }
        var threaded = Run();
        int saved = Threads.MaxCount;
        try
        {
            foreach (int threads in new[] { 1, 3 })
            {
                Threads.MaxCount = threads;
                var other = Run();
                Assert.That(other.Y, Is.EqualTo(threaded.Y), $"y, {threads} threads");
                Assert.That(other.Dx, Is.EqualTo(threaded.Dx), $"dx, {threads} threads");
                Assert.That(other.Dw, Is.EqualTo(threaded.Dw), $"dW, {threads} threads");
            }
        }
        finally
        {
            Threads.MaxCount = saved;
        }
        float[] expected = ConvReference.Forward(x.ToArray(), n, c, hw, hw, w.ToArray(), o, 3, 3, null, 1, 1, out _, out _);
        TensorAssert.Close(threaded.Y, expected, atol: 1e-4f, rtol: 1e-4f, what: "y against direct loops");
    }

    [Test]
    public void Conv2d_ManyImages_WeightGradientIsThreadCountIndependentInValue()
    {
        // 5 images spread over threads; the weight gradient must equal the sum of per-image gradients.
        Tensor x = TestData.Uniform([5, 2, 6, 6], 9), w = TestData.Uniform([3, 2, 3, 3], 10);
        w.RequiresGrad = true;
        x.Conv2d(w, padding: 1).Sum().Backward();
        float[] whole = w.Grad!.ToArray();
        var perImage = new float[whole.Length];
        for (int i = 0; i < 5; i++)
        {
            var wi = w.Detach().Clone();
            wi.RequiresGrad = true;
            Tensor xi = Tensor.FromArray(x.Data.Slice(i * 72, 72).ToArray(), 1, 2, 6, 6);
            xi.Conv2d(wi, padding: 1).Sum().Backward();
            float[] gi = wi.Grad!.ToArray();
            for (int j = 0; j < perImage.Length; j++) perImage[j] += gi[j];
        }
        TensorAssert.Close(whole, perImage, atol: 1e-4f);
    }

    [Test]
    public void Conv2d_BadShapes_ThrowNamingShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Zeros(1, 3, 8, 8).Conv2d(Tensor.Zeros(4, 2, 3, 3)));
        Assert.That(ex!.Message, Does.Contain("(1, 3, 8, 8)").And.Contain("(4, 2, 3, 3)"));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(3, 8, 8).Conv2d(Tensor.Zeros(4, 3, 3, 3)));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(1, 3, 2, 2).Conv2d(Tensor.Zeros(4, 3, 3, 3)));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(1, 3, 8, 8).Conv2d(Tensor.Zeros(4, 3, 3, 3), Tensor.Zeros(3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Zeros(1, 3, 8, 8).Conv2d(Tensor.Zeros(4, 3, 3, 3), stride: 0));
    }

    [TestCase(2, 3, 7, 6, 4, 3, 1, 0, true, FusedActivation.Relu)]
    [TestCase(3, 2, 9, 9, 5, 3, 2, 1, false, FusedActivation.Sigmoid)]
    [TestCase(1, 4, 5, 5, 3, 1, 1, 0, true, FusedActivation.None)]
    [TestCase(5, 32, 14, 14, 64, 3, 1, 1, false, FusedActivation.Relu)]   // the benchmark CNN's second layer, images over threads
    [TestCase(1, 32, 14, 14, 64, 3, 1, 1, true, FusedActivation.Relu)]    // one image: the product on every thread
    public void Conv2dAffine_EqualsConvThenAffineThenActivation(int n, int c, int h, int w, int o, int k, int stride, int padding, bool withBias,
        FusedActivation act)
    {
        Tensor x = TestData.Uniform([n, c, h, w], 7), weight = TestData.Uniform([o, c, k, k], 8);
        Tensor? bias = withBias ? TestData.Uniform([o], 9) : null;
        float[] scale = TestData.Array(o, 10), shift = TestData.Array(o, 11);
        using var noGrad = MiniNet.Autograd.NoGrad();
        Tensor y = x.Conv2dAffine(weight, bias, scale, shift, act, stride, padding);
        Tensor z = x.Conv2d(weight, bias, stride, padding) * Tensor.FromArray(scale, o, 1, 1) + Tensor.FromArray(shift, o, 1, 1);
        z = act switch { FusedActivation.Relu => z.Relu(), FusedActivation.Sigmoid => z.Sigmoid(), _ => z };
        Assert.That(y.Shape, Is.EqualTo(z.Shape));
        TensorAssert.Close(y, z.ToArray(), atol: 1e-5f, rtol: 1e-4f);
    }

    [Test]
    public void Conv2dAffine_ChecksItsArguments_AndRefusesToRecordAGraph()
    {
        Tensor x = TestData.Uniform([2, 3, 6, 6], 12), weight = TestData.Uniform([4, 3, 3, 3], 13);
        float[] s = [1, 2, 3, 4], t = [0, 0, 0, 0];
        var e = Assert.Throws<ArgumentException>(() => x.Conv2dAffine(weight, null, s[..3], t, FusedActivation.None));
        Assert.That(e!.Message, Does.Contain("4 values each").And.Contain("got 3 and 4"));
        Assert.That(Assert.Throws<ArgumentException>(() => TestData.Uniform([2, 2, 6, 6], 14).Conv2dAffine(weight, null, s, t, FusedActivation.None))!.Message,
            Does.StartWith("Conv2dAffine:").And.Contain("has 2 channels").And.Contain("expects 3"));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Conv2dAffine(weight, null, s, t, (FusedActivation)9));
        weight.RequiresGrad = true;
        Assert.That(Assert.Throws<InvalidOperationException>(() => x.Conv2dAffine(weight, null, s, t, FusedActivation.Relu))!.Message, Does.Contain("NoGrad"));
    }

    [TestCase(3, 3, 7, 6, 4, 3, 1, 0)]
    [TestCase(2, 32, 14, 14, 64, 3, 1, 1)]   // the benchmark CNN's second layer: 288 rows in two k-blocks, 196 = 6 panels + 4
    [TestCase(1, 32, 14, 14, 64, 3, 1, 1)]   // one image: the product on every thread
    [TestCase(2, 2, 9, 9, 5, 3, 2, 1)]
    [TestCase(2, 4, 5, 5, 3, 1, 1, 0)]
    [TestCase(2, 1, 28, 28, 8, 5, 2, 2)]
    [TestCase(2, 3, 40, 60, 6, 3, 1, 1)]     // 2400 positions: more than one NC block of columns
    [TestCase(2, 3, 9, 7, 4, 5, 1, 2)]       // "same" 5×5: shifts of two rows and two columns, rows of 7
    [TestCase(3, 2, 5, 3, 2, 3, 1, 1)]       // "same" on a 3-wide image
    public void Conv2d_UnfoldingIntoPackedPanels_EqualsUnfoldingThenMultiplyingBitwise(int n, int c, int h, int w, int o, int k, int stride, int padding)
    {
        Tensor x = TestData.Uniform([n, c, h, w], 19), weight = TestData.Uniform([o, c, k, k], 20);
        Tensor y = x.Conv2d(weight, null, stride, padding);
        int oh = (h + 2 * padding - k) / stride + 1, ow = (w + 2 * padding - k) / stride + 1, rows = c * k * k, plane = oh * ow;
        float[] columns = new float[rows * plane], expected = new float[n * o * plane];
        for (int i = 0; i < n; i++)
        {
            MiniNet.Kernels.Layout.Im2Col(x.ToArray().AsSpan(i * c * h * w, c * h * w), c, h, w, k, k, stride, padding, oh, ow, columns, plane);
            MiniNet.Kernels.Gemm.Multiply(false, false, o, plane, rows, weight.ToArray(), rows, columns, plane, expected.AsSpan(i * o * plane, o * plane), plane,
                accumulate: false, parallel: n == 1);
        }
        Assert.That(y.ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void Conv2d_SameConvolutionsOfDifferentGeometries_OneAfterAnother_MatchDirectLoops()
    {
        // The "same" unfold keeps per-thread margins and masks for the last geometry: alternating geometries must remake them.
        (int C, int H, int W, int K, int P)[] layers = [(3, 14, 14, 3, 1), (2, 9, 7, 5, 2), (3, 14, 14, 3, 1), (4, 6, 6, 1, 0), (2, 9, 7, 5, 2)];
        foreach (var (c, h, w, k, p) in layers)
        {
            Tensor x = TestData.Uniform([2, c, h, w], 21 + h), weight = TestData.Uniform([5, c, k, k], 22 + k);
            x.Data[3] = float.NaN;   // copied through as it is
            float[] expected = ConvReference.Forward(x.ToArray(), 2, c, h, w, weight.ToArray(), 5, k, k, null, 1, p, out int oh, out int ow);
            float[] actual = x.Conv2d(weight, null, 1, p).ToArray();
            Assert.That(actual.Select(float.IsNaN), Is.EqualTo(expected.Select(float.IsNaN)), $"{c}x{h}x{w}, {k}x{k}: NaNs");
            TensorAssert.Close(actual.Select(v => float.IsNaN(v) ? 0f : v).ToArray(), expected.Select(v => float.IsNaN(v) ? 0f : v).ToArray(),
                atol: 1e-5f, rtol: 1e-4f, what: $"{c}x{h}x{w}, {k}x{k}");
        }
    }
}

[TestFixture]
public class Conv2dEmptyBatchTests
{
    [Test]
    public void EmptyBatch_LeavesAKeptWeightGradientAsZeros()
    {
        var w = new Parameter(Tensor.Randn([2, 1, 3, 3], seed: 1));
        Tensor.Randn([2, 1, 5, 5], seed: 2).Conv2d(w).Sum().Backward();
        Assert.That(w.Grad!.ToArray().Any(v => v != 0f), Is.True);
        w.ZeroGrad(setToNone: true);   // the buffer is kept for the next pass, which must write it or leave it zeros
        Tensor.Zeros(0, 1, 5, 5).Conv2d(w).Sum().Backward();
        Assert.That(w.Grad!.ToArray(), Is.All.EqualTo(0f), "an empty batch contributes nothing");
    }
}
