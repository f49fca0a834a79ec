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

[TestFixture]
public class OptimizerKernelTests
{
    [TestCase(0), TestCase(1), TestCase(17), TestCase(67), TestCase(100_003), TestCase(600_001)]   // the last split over threads
    public void SgdMomentum_MatchesScalarTwin(int length)
    {
        float[] p = TestData.Array(length, 1), g = TestData.Array(length, 2), v = TestData.Array(length, 3);
        float[] p2 = (float[])p.Clone(), v2 = (float[])v.Clone();
        MiniNet.Kernels.OptimizerKernels.SgdMomentum(p, g, v, length, 0.1f, 0.9f, 0.2f);
        MiniNet.Kernels.Reference.OptimizerReference.SgdMomentum(p2, g, v2, length, 0.1f, 0.9f, 0.2f);
        TensorAssert.Close(p, p2, atol: 1e-6f, rtol: 1e-6f, what: "parameter");
        TensorAssert.Close(v, v2, atol: 1e-6f, rtol: 1e-6f, what: "velocity");
    }

    [Test]
    public void SgdMomentum_TouchesOnlyTheFirstLengthElements()
    {
        const int length = 300_007, slack = 37;
        float[] p = TestData.Array(length + slack, 4), g = TestData.Array(length + slack, 5), v = TestData.Array(length + slack, 6);
        float[] p0 = (float[])p.Clone(), v0 = (float[])v.Clone();
        MiniNet.Kernels.OptimizerKernels.SgdMomentum(p, g, v, length, 0.1f, 0.9f, 0f);
        Assert.That(p[length..], Is.EqualTo(p0[length..]), "parameters past length");
        Assert.That(v[length..], Is.EqualTo(v0[length..]), "velocities past length");
        Assert.That(p[length - 1], Is.Not.EqualTo(p0[length - 1]), "the last element is updated");
    }

    [TestCase(9, 10, 10), TestCase(10, 9, 10), TestCase(10, 10, 9)]
    public void SgdMomentum_RejectsArraysShorterThanLength(int p, int g, int v)
    {
        var e = Assert.Throws<ArgumentException>(() =>
            MiniNet.Kernels.OptimizerKernels.SgdMomentum(new float[p], new float[g], new float[v], 10, 0.1f, 0.9f, 0f));
        Assert.That(e!.Message, Does.Contain("10 elements").And.Contain($"hold {p}, {g} and {v}"));
    }

    [NonParallelizable]   // changes the global thread count for a moment
    [Test]
    public void SgdMomentum_ElementsDoNotDependOnThreadsOrLength()
    {
        const int length = 600_000;   // a multiple of every vector width: no scalar tail, until one element shorter
        float[] g = TestData.Array(length, 8);
        (float[] P, float[] V) Update(int threads, int n)
        {
            float[] p = TestData.Array(length, 9), v = TestData.Array(length, 10);
            int saved = MiniNet.Kernels.Parallelism.MaxThreads;
            try
            {
                MiniNet.Kernels.Parallelism.MaxThreads = threads;
                MiniNet.Kernels.OptimizerKernels.SgdMomentum(p, g, v, n, 0.1f, 0.9f, 0.2f);
            }
            finally
            {
                MiniNet.Kernels.Parallelism.MaxThreads = saved;
            }
            return (p[..n], v[..n]);
        }
        var one = Update(1, length);
        var four = Update(4, length);
        Assert.That(four.P, Is.EqualTo(one.P), "parameters, 4 threads against 1");
        Assert.That(four.V, Is.EqualTo(one.V), "velocities, 4 threads against 1");
        // One element shorter: the last vector's other elements now fall in the scalar tail, and must come out the same.
        var shorter = Update(1, length - 1);
        Assert.That(shorter.P, Is.EqualTo(one.P[..(length - 1)]), "parameters, length − 1 against length");
        Assert.That(shorter.V, Is.EqualTo(one.V[..(length - 1)]), "velocities, length − 1 against length");
    }
}
