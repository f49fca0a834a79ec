using System.Runtime.Intrinsics;
using MiniNet.Kernels;
using MiniNet.Kernels.Reference;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Kernels;

[TestFixture]
public class LogisticTests
{
    /// <summary>About 190,000 points over [−87, 87], at a step that is no power of two.</summary>
    private static float[] Grid()
    {
        var xs = new List<float>();
        for (double x = -87; x <= 87; x += 0.000913) xs.Add((float)x);
        return [.. xs];
    }

    [Test]
    public void Apply_IsWithin3e7Relative_OfTheExactSigmoid()
    {
        float[] x = Grid(), y = new float[x.Length];
        Logistic.Apply(x, y);
        double worst = 0; float at = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double exact = 1 / (1 + Math.Exp(-(double)x[i]));
            double rel = Math.Abs(y[i] - exact) / exact;
            if (rel > worst) (worst, at) = (rel, x[i]);
        }
        Assert.That(worst, Is.LessThan(3e-7), $"worst relative error at x = {at}");
    }

    [Test]
    public void Apply_MatchesTheScalarTwin()
    {
        float[] x = TestData.Array(10_000, 1).Select(v => 30f * v).ToArray(), fast = new float[x.Length], twin = new float[x.Length];
        Logistic.Apply(x, fast);
        ElementwiseReference.Sigmoid(x, twin);
        TensorAssert.Close(fast, twin, atol: 1e-30f, rtol: 5e-7f);
    }

    [TestCase(float.NaN, float.NaN)]
    [TestCase(float.PositiveInfinity, 1f)]
    [TestCase(float.NegativeInfinity, 0f)]
    [TestCase(0f, 0.5f)]
    [TestCase(-0f, 0.5f)]
    [TestCase(100f, 1f)]
    [TestCase(-100f, 0f)]       // σ is below the normal floats here
    [TestCase(-87.5f, 0f)]
    [TestCase(20f, 1f)]         // 1 − 2e-9 rounds to 1
    public void SpecialValues(float x, float expected)
    {
        float[] xs = Enumerable.Repeat(x, 29).ToArray();   // a Vector512, a Vector256 and a scalar tail
        Logistic.Apply(xs, xs);
        Assert.That(xs, Is.All.EqualTo(expected));
    }

    [Test]
    public void AtTheNormalLimit_TinyThenZero()
    {
        float[] x = [-87.33f, -87.4f, -88f, -89f, -103f, -1e30f], y = new float[x.Length];
        Logistic.Apply(x, y);
        Assert.That(y[0], Is.EqualTo(1 / (1 + Math.Exp(-(double)x[0]))).Within(3e-5).Percent, "the last normal e^t");
        Assert.That(y[1..], Is.All.EqualTo(0f), "below the normal floats");
    }

    private static int[] Bits(IEnumerable<float> values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    [Test]
    public void EachElement_IsBitwiseTheSame_OnEveryPathAndPosition()
    {
        // The vector loops and the scalar tail run the same steps, so an element's value does not depend on where it
        // sits: shifting the span by one moves elements between Vector512, Vector256 and the tail.
        float[] x = TestData.Array(1000, 2).Select(v => 40f * v).ToArray();
        float[] scalar = x.Select(Logistic.Of).ToArray();
        for (int offset = 0; offset < 20; offset++)
            for (int length = 0; length + offset <= 67; length += 7)
            {
                float[] y = new float[length];
                Logistic.Apply(x.AsSpan(offset, length), y);
                Assert.That(Bits(y), Is.EqualTo(Bits(scalar.AsSpan(offset, length).ToArray())), $"offset {offset}, length {length}");
            }
        if (Vector256.IsHardwareAccelerated)
            for (int i = 0; i + 8 <= x.Length; i += 8)
                Assert.That(Bits(Enumerable.Range(0, 8).Select(l => Logistic.Of(Vector256.Create(x, i))[l])), Is.EqualTo(Bits(scalar.AsSpan(i, 8).ToArray())));
        if (Vector512.IsHardwareAccelerated)
            for (int i = 0; i + 16 <= x.Length; i += 16)
                Assert.That(Bits(Enumerable.Range(0, 16).Select(l => Logistic.Of(Vector512.Create(x, i))[l])), Is.EqualTo(Bits(scalar.AsSpan(i, 16).ToArray())));
    }

    [Test]
    public void Apply_InPlace()
    {
        float[] x = TestData.Array(37, 3), expected = x.Select(Logistic.Of).ToArray();
        Logistic.Apply(x, x);
        Assert.That(Bits(x), Is.EqualTo(Bits(expected)));
    }

    [Test]
    public void Apply_RejectsMismatchedLengths()
    {
        var e = Assert.Throws<ArgumentException>(() => Logistic.Apply(new float[5], new float[4]));
        Assert.That(e!.Message, Does.Contain("5").And.Contain("4"));
    }
}
