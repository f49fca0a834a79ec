using MiniNet.Kernels.Reference;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Ops;

[TestFixture]
public class Pool2dTests
{
    [TestCase(2, 2, 0)]   // non-overlapping
    [TestCase(3, 2, 0)]   // overlapping
    [TestCase(3, 1, 1)]   // overlapping, padded
    [TestCase(2, 2, 1)]
    [TestCase(3, 3, 0)]
    public void Pooling_MatchesWindowLoops(int kernel, int stride, int padding)
    {
        Tensor x = TestData.Uniform([2, 3, 7, 6], 1);
        int oh = (7 + 2 * padding - kernel) / stride + 1, ow = (6 + 2 * padding - kernel) / stride + 1;
        TensorAssert.Close(x.MaxPool2d(kernel, stride, padding),
            PoolingReference.Forward(x.ToArray(), 6, 7, 6, kernel, stride, padding, max: true), [2, 3, oh, ow], atol: 0, rtol: 0);
        TensorAssert.Close(x.AvgPool2d(kernel, stride, padding),
            PoolingReference.Forward(x.ToArray(), 6, 7, 6, kernel, stride, padding, max: false), [2, 3, oh, ow], atol: 1e-6f);
    }

    [TestCase(64, 32, 28, 28)]   // the benchmark CNN's first pooling: 14 outputs a row
    [TestCase(3, 5, 14, 14)]     // 7 outputs a row: shorter than a vector
    [TestCase(2, 3, 4, 6)]       // fewer than 16 pairs a plane
    [TestCase(2, 3, 6, 40)]      // rows of 20 outputs: a vector and an overlapping one
    [TestCase(1, 1, 9, 8)]       // an odd height: the last row is left out
    public void MaxPool2d_WithoutGraph_EqualsTheRecordedPassBitwise(int n, int c, int h, int w)
    {
        Tensor x = TestData.Uniform([n, c, h, w], 4);
        Span<float> v = x.Data;
        // NaNs, ±0 ties and equal values, so that which element wins shows in the bits.
        for (int i = 0; i < v.Length; i += 7) v[i] = float.NaN;
        for (int i = 3; i < v.Length; i += 11) v[i] = 0f;
        for (int i = 4; i < v.Length; i += 11) v[i] = -0f;
        for (int i = 5; i < v.Length; i += 13) v[i] = v[i - 1];
        x.RequiresGrad = true;
        float[] recorded = x.MaxPool2d(2).ToArray();   // with winners, for backward
        float[] valuesOnly;
        using (MiniNet.Autograd.NoGrad()) valuesOnly = x.MaxPool2d(2).ToArray();
        Assert.That(valuesOnly.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(recorded.Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void MaxPool2d_StrideDefaultsToKernel()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 16).Select(i => (float)i).ToArray(), 1, 1, 4, 4);
        TensorAssert.Close(x.MaxPool2d(2), [5, 7, 13, 15], [1, 1, 2, 2]);
        TensorAssert.Close(x.AvgPool2d(2), [2.5f, 4.5f, 10.5f, 12.5f], [1, 1, 2, 2]);
    }

    [TestCase(2)]
    [TestCase(3)]
    public void MaxPool2d_NaNInAnyPositionWins(int kernel)
    {
        for (int position = 0; position < kernel * kernel; position++)
        {
            var x = Tensor.Zeros(1, 1, kernel, kernel);
            x[0, 0, position / kernel, position % kernel] = float.NaN;
            Assert.That(float.IsNaN(x.MaxPool2d(kernel).Item()), Is.True, $"NaN at {position}");
        }
        var ties = Tensor.Ones(1, 1, 2, 2);
        ties.RequiresGrad = true;
        ties.MaxPool2d(2).Sum().Backward();
        Assert.That(ties.Grad!.ToArray(), Is.EqualTo(new float[] { 1, 0, 0, 0 }), "the first of equal values wins");
    }

    [TestCase(2, 3, 28, 28)]   // wide rows: vector passes in both directions
    [TestCase(1, 2, 15, 14)]   // odd height: the last row is never pooled
    [TestCase(3, 2, 14, 14)]   // short output rows (7)
    [TestCase(2, 1, 2, 8)]     // fewer than 16 pairs in a plane
    [TestCase(32, 64, 14, 14)] // large enough to split planes over threads (short rows overflow into the next row)
    public void MaxPool2d_2x2_ValuesAndWinnersMatchRowMajorScan(int n, int c, int h, int w)
    {
        // Few distinct levels make ties common; some NaNs must win wherever they are.
        var rng = new Random(5);
        float[] data = Enumerable.Range(0, n * c * h * w).Select(_ => rng.Next(50) == 0 ? float.NaN : rng.Next(4)).ToArray();
        var x = Tensor.FromArray(data, n, c, h, w);
        x.RequiresGrad = true;
        Tensor y = x.MaxPool2d(2);
        Tensor weights = TestData.Uniform([.. y.Shape], 6);
        (y * weights).Sum().Backward();

        int oh = h / 2, ow = w / 2;
        float[] expectedY = new float[n * c * oh * ow], expectedDx = new float[data.Length], weight = weights.ToArray();
        for (int plane = 0; plane < n * c; plane++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int best = -1;
                    for (int u = 0; u < 2; u++)
                        for (int v = 0; v < 2; v++)
                        {
                            int at = plane * h * w + (2 * i + u) * w + 2 * j + v;
                            if (best < 0 || data[at] > data[best] || (float.IsNaN(data[at]) && !float.IsNaN(data[best]))) best = at;
                        }
                    int o = (plane * oh + i) * ow + j;
                    expectedY[o] = data[best];
                    expectedDx[best] += weight[o];
                }
        Assert.That(y.ToArray(), Is.EqualTo(expectedY));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(expectedDx));
    }

    [TestCase(1, 4, 4)]     // the whole output is shorter than one vector
    [TestCase(3, 2, 8)]     // one output row per plane
    [TestCase(2, 6, 2)]     // one output column
    [TestCase(2, 14, 14)]   // rows of 7
    public void MaxPool2d_2x2_WritesNothingPastItsPlanes(int planes, int h, int w)
    {
        // Short output rows are computed eight wide; the overflow must stay inside the planes being pooled.
        const float sentinel = 12345f;
        int outputs = planes * (h / 2) * (w / 2);
        float[] x = TestData.Array(planes * h * w, 14);
        float[] y = Enumerable.Repeat(sentinel, outputs + 16).ToArray(), winners = Enumerable.Repeat(sentinel, outputs + 16).ToArray();
        MiniNet.Kernels.Pooling.MaxForward(x, new MiniNet.Kernels.PoolWindow(h, w, 2, 2, 0, h / 2, w / 2, 0, planes), y, winners);
        Assert.That(y[outputs..], Is.All.EqualTo(sentinel), "values past the output");
        Assert.That(winners[outputs..], Is.All.EqualTo(sentinel), "winners past the output");
        Assert.That(y[..outputs], Has.None.EqualTo(sentinel));
    }

    [TestCase(2, 2, 0)]
    [TestCase(3, 2, 0)]
    [TestCase(3, 1, 1)]
    public void Pooling_GradientsMatchNumerical(int kernel, int stride, int padding)
    {
        Tensor x = TestData.Distinct([2, 2, 6, 5], 2);
        TensorAssert.GradientsMatch(v => v[0].MaxPool2d(kernel, stride, padding), x);
        TensorAssert.GradientsMatch(v => v[0].AvgPool2d(kernel, stride, padding), x);
    }

    [Test]
    public void Pooling_BadArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(3, 4, 4).MaxPool2d(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Zeros(1, 1, 4, 4).MaxPool2d(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Zeros(1, 1, 4, 4).AvgPool2d(2, padding: 2));
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Zeros(1, 1, 2, 2).MaxPool2d(3));
        Assert.That(ex!.Message, Does.Contain("MaxPool2d").And.Contain("(1, 1, 2, 2)"));
    }
}
