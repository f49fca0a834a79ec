using MiniNet.Kernels;
using MiniNet.Kernels.Reference;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Kernels;

[TestFixture]
public class ElementwiseTests
{
    private delegate void Kernel(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d);

    private static readonly (string Name, Kernel Simd, Kernel Scalar, bool PositiveA)[] Cases =
    [
        ("relu", Elementwise.Accumulate<ReluGrad>, ElementwiseReference.ReluGrad, false),
        ("sigmoid", Elementwise.Accumulate<SigmoidGrad>, ElementwiseReference.SigmoidGrad, false),
        ("tanh", Elementwise.Accumulate<TanhGrad>, ElementwiseReference.TanhGrad, false),
        ("sqrt", Elementwise.Accumulate<SqrtGrad>, ElementwiseReference.SqrtGrad, true),
        ("quotient", (a, b, d) => Elementwise.Accumulate<Quotient>(b, a, d), (a, b, d) => ElementwiseReference.Quotient(b, a, d), true),
        ("abs", Elementwise.Accumulate<AbsGrad>, ElementwiseReference.AbsGrad, false),
    ];

    private static IEnumerable<TestCaseData> Lengths()
    {
        foreach (var c in Cases)
            foreach (int n in Enumerable.Range(0, 68).Concat([127, 255, 256, 257]))
                yield return new TestCaseData(c.Name, n).SetName($"Accumulate_{c.Name}_Length{n}_MatchesScalarTwin");
    }

    [TestCaseSource(nameof(Lengths))]
    public void Accumulate_MatchesScalarTwin(string name, int length)
    {
        var c = Cases.Single(k => k.Name == name);
        float[] a = TestData.Array(length + 3, 1), b = TestData.Array(length + 3, 2), d0 = TestData.Array(length + 3, 3);
        if (c.PositiveA) for (int i = 0; i < a.Length; i++) a[i] = Math.Abs(a[i]) + 0.1f;
        if (length > 0) a[0] = 0f;   // the kink: relu and abs give 0 there
        float[] simd = (float[])d0.Clone(), scalar = (float[])d0.Clone();
        if (c.PositiveA) a[0] = 0.5f;
        // Offset by 3 so the vector loads are unaligned and the trailing 3 elements must stay untouched.
        c.Simd(a.AsSpan(3), b.AsSpan(3), simd.AsSpan(3));
        c.Scalar(a.AsSpan(3), b.AsSpan(3), scalar.AsSpan(3));
        TensorAssert.Close(simd, scalar, atol: 1e-6f, rtol: 1e-6f, what: name);
    }

    [TestCase(0), TestCase(67), TestCase(300_001)]   // the last is split over threads
    public void Apply_OverwritesOrAdds_LikeTheScalarTwin(int length)
    {
        float[] x = TestData.Array(length, 6), dy = TestData.Array(length, 7), start = TestData.Array(length, 8);
        float[] added = (float[])start.Clone(), expectedAdded = (float[])start.Clone(), expectedWritten = new float[length];
        float[] written = Enumerable.Repeat(float.NaN, length).ToArray();   // an untouched gradient holds anything
        Elementwise.Apply<ReluGrad>(x, dy, added, length, accumulate: true);
        Elementwise.Apply<ReluGrad>(x, dy, written, length, accumulate: false);
        ElementwiseReference.ReluGrad(x, dy, expectedAdded);
        ElementwiseReference.ReluGrad(x, dy, expectedWritten);
        Assert.That(added, Is.EqualTo(expectedAdded));
        Assert.That(written, Is.EqualTo(expectedWritten));
    }

    [Test]
    public void Accumulate_InPlace_DestinationAliasesInput()
    {
        float[] a = TestData.Array(37, 4), b = TestData.Array(37, 5);
        float[] expected = (float[])b.Clone();
        ElementwiseReference.TanhGrad(a, (float[])b.Clone(), expected);
        Elementwise.Accumulate<TanhGrad>(a, b, b);
        TensorAssert.Close(b, expected, atol: 1e-6f);
    }
}
