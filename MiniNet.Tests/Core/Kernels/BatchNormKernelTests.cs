using MiniNet.Kernels;
using MiniNet.Kernels.Reference;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Kernels;

[TestFixture]
public class BatchNormKernelTests
{
    // (N, C, L): rows of channels (L = 1) with every SIMD tail, planes of odd lengths, and enough work to go parallel.
    private static readonly object[] Shapes =
    [
        new object[] { 5, 1, 1 }, new object[] { 7, 3, 1 }, new object[] { 4, 17, 1 }, new object[] { 9, 33, 1 }, new object[] { 3, 67, 1 },
        new object[] { 40, 100, 1 }, new object[] { 33, 70, 1 }, new object[] { 300, 1000, 1 },   // several row blocks, a partial one; parallel
        new object[] { 2, 3, 5 }, new object[] { 3, 2, 31 }, new object[] { 4, 5, 49 }, new object[] { 8, 64, 196 }, new object[] { 2, 1, 257 },
    ];

    [TestCaseSource(nameof(Shapes))]
    public void Kernels_MatchScalarTwin(int n, int c, int l)
    {
        float[] x = TestData.Array(n * c * l, 1).Select(v => 3f * v + 2f).ToArray(), dy = TestData.Array(n * c * l, 2);
        double[] mean = new double[c], variance = new double[c], refMean = new double[c], refVariance = new double[c];
        BatchNormKernels.Statistics(x, n, c, l, mean, variance);
        BatchNormReference.Statistics(x, n, c, l, refMean, refVariance);
        for (int j = 0; j < c; j++)
        {
            Assert.That(mean[j], Is.EqualTo(refMean[j]).Within(1e-6), $"mean {j}");
            Assert.That(variance[j], Is.EqualTo(refVariance[j]).Within(1e-5 * Math.Max(1, refVariance[j])), $"variance {j}");
        }

        float[] center = mean.Select(v => (float)v).ToArray();
        float[] inv = variance.Select(v => (float)(1 / Math.Sqrt(v + 1e-5))).ToArray();
        float[] offset = mean.Select((v, j) => (float)(-(v - center[j]) * inv[j])).ToArray();
        float[] scale = TestData.Array(c, 3), shift = TestData.Array(c, 4), a = TestData.Array(c, 5), b = TestData.Array(c, 6);
        float[] y = new float[x.Length], refY = new float[x.Length];
        BatchNormKernels.Normalize(x, n, c, l, center, scale, shift, y);
        BatchNormReference.Normalize(x, n, c, l, center, scale, shift, refY);
        TensorAssert.Close(y, refY, atol: 1e-5f, rtol: 1e-5f, what: "normalize");

        double[] sumDy = new double[c], sumDyXhat = new double[c], refSumDy = new double[c], refSumDyXhat = new double[c];
        BatchNormKernels.BackwardSums(x, dy, n, c, l, center, inv, offset, sumDy, sumDyXhat);
        BatchNormReference.BackwardSums(x, dy, n, c, l, center, inv, offset, refSumDy, refSumDyXhat);
        for (int j = 0; j < c; j++)
        {
            Assert.That(sumDy[j], Is.EqualTo(refSumDy[j]).Within(1e-4), $"Σdy {j}");
            Assert.That(sumDyXhat[j], Is.EqualTo(refSumDyXhat[j]).Within(1e-4), $"Σdy·x̂ {j}");
        }

        float[] dx = TestData.Array(x.Length, 7), refDx = (float[])dx.Clone();
        BatchNormKernels.BackwardInput(x, dy, n, c, l, center, inv, offset, scale, a, b, dx);
        BatchNormReference.BackwardInput(x, dy, n, c, l, center, inv, offset, scale, a, b, refDx);
        TensorAssert.Close(dx, refDx, atol: 1e-5f, rtol: 1e-5f, what: "dx");

        // Overwrite mode (the gradient's first writer): whatever dx held is ignored.
        float[] fresh = Enumerable.Repeat(float.NaN, x.Length).ToArray(), refFresh = new float[x.Length];
        BatchNormKernels.BackwardInput(x, dy, n, c, l, center, inv, offset, scale, a, b, fresh, accumulate: false);
        BatchNormReference.BackwardInput(x, dy, n, c, l, center, inv, offset, scale, a, b, refFresh);
        TensorAssert.Close(fresh, refFresh, atol: 1e-5f, rtol: 1e-5f, what: "dx (overwrite)");

        // A fused ReLU: the kernels gate dy by the sign of (x − center)·scale + shift; the reference gets dy pre-masked.
        var gate = new ReluGate(scale, shift);
        float[] masked = dy.Select((g, e) => MathF.FusedMultiplyAdd(x[e] - center[l == 1 ? e % c : e / l % c], scale[l == 1 ? e % c : e / l % c],
            shift[l == 1 ? e % c : e / l % c]) > 0f ? g : 0f).ToArray();
        Assert.That(masked.Count(g => g == 0f), Is.GreaterThan(0), "the gate closes somewhere");
        BatchNormKernels.BackwardSums(x, dy, n, c, l, center, inv, offset, sumDy, sumDyXhat, gate);
        BatchNormReference.BackwardSums(x, masked, n, c, l, center, inv, offset, refSumDy, refSumDyXhat);
        for (int j = 0; j < c; j++)
        {
            Assert.That(sumDy[j], Is.EqualTo(refSumDy[j]).Within(1e-4), $"gated Σdy {j}");
            Assert.That(sumDyXhat[j], Is.EqualTo(refSumDyXhat[j]).Within(1e-4), $"gated Σdy·x̂ {j}");
        }
        float[] gatedDx = new float[x.Length], refGatedDx = new float[x.Length];
        BatchNormKernels.BackwardInput(x, dy, n, c, l, center, inv, offset, scale, a, b, gatedDx, accumulate: false, gate);
        BatchNormReference.BackwardInput(x, masked, n, c, l, center, inv, offset, scale, a, b, refGatedDx);
        TensorAssert.Close(gatedDx, refGatedDx, atol: 1e-5f, rtol: 1e-5f, what: "gated dx");
        float[] relu = new float[x.Length];
        BatchNormKernels.Normalize(x, n, c, l, center, scale, shift, relu, relu: true);
        TensorAssert.Close(relu, refY.Select(v => MathF.Max(v, 0f)).ToArray(), atol: 1e-5f, rtol: 1e-5f, what: "normalize + relu");
    }

    [TestCase(300, 1000, 1)]
    [TestCase(24, 64, 196)]
    [NonParallelizable]   // changes the thread count
    public void Kernels_DoNotDependOnTheThreadCount(int n, int c, int l)
    {
        float[] x = TestData.Array(n * c * l, 1).Select(v => 3f * v + 2f).ToArray(), dy = TestData.Array(n * c * l, 2);
        float[] center = TestData.Array(c, 3), inv = TestData.Array(c, 4), offset = TestData.Array(c, 5);
        var gate = new ReluGate(TestData.Array(c, 6), TestData.Array(c, 7));
        (double[], double[], double[], double[], double[], double[]) Run()
        {
            double[] mean = new double[c], variance = new double[c], sumDy = new double[c], sumDyXhat = new double[c];
            double[] gatedDy = new double[c], gatedDyXhat = new double[c];
            BatchNormKernels.Statistics(x, n, c, l, mean, variance);
            BatchNormKernels.BackwardSums(x, dy, n, c, l, center, inv, offset, sumDy, sumDyXhat);
            BatchNormKernels.BackwardSums(x, dy, n, c, l, center, inv, offset, gatedDy, gatedDyXhat, gate);
            return (mean, variance, sumDy, sumDyXhat, gatedDy, gatedDyXhat);
        }
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = Run();
            Parallelism.MaxThreads = 2;
            var two = Run();
            Assert.That(two.Item1, Is.EqualTo(one.Item1), "mean");
            Assert.That(two.Item2, Is.EqualTo(one.Item2), "variance");
            Assert.That(two.Item3, Is.EqualTo(one.Item3), "Σdy");
            Assert.That(two.Item4, Is.EqualTo(one.Item4), "Σdy·x̂");
            Assert.That(two.Item5, Is.EqualTo(one.Item5), "gated Σdy");
            Assert.That(two.Item6, Is.EqualTo(one.Item6), "gated Σdy·x̂");
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    [TestCase(64, 3, 1)]
    [TestCase(4, 3, 196)]
    public void Statistics_LargeMeanSmallSpread_StayAccurate(int n, int c, int l)
    {
        float[] x = Tensor.Randn([n * c * l], seed: 8).ToArray().Select(v => 1e4f + 0.01f * v).ToArray();
        double[] mean = new double[c], variance = new double[c];
        BatchNormKernels.Statistics(x, n, c, l, mean, variance);
        for (int j = 0; j < c; j++)
        {
            var values = Enumerable.Range(0, n).SelectMany(i => Enumerable.Range(0, l).Select(k => (double)x[(i * c + j) * l + k])).ToArray();
            double mu = values.Average(), v = values.Select(e => (e - mu) * (e - mu)).Average();
            Assert.That(mean[j], Is.EqualTo(mu).Within(1e-7 * 1e4));
            Assert.That(variance[j], Is.EqualTo(v).Within(v * 1e-3));
        }
    }
}
