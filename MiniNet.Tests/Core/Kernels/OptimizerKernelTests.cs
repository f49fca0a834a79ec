using MiniNet.Kernels;
using MiniNet.Kernels.Reference;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Kernels;

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

/// <summary>The general SGD and the Adam kernels: their scalar twins, and bitwise the library formulation they replaced
/// (TensorPrimitives' separate multiplies and adds), on every length's vector tail and on special values.</summary>
[TestFixture]
public class OptimizerRuleKernelTests
{
    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    private static float[] Values(int length, int seed)
    {
        float[] v = TestData.Array(length, seed);
        float[] special = [0f, -0f, 1e-30f, -1e30f, float.Epsilon, 3f];
        for (int i = 0; i < Math.Min(length, special.Length); i++) v[i * 7 % length] = special[i];
        return v;
    }

    private static IEnumerable<TestCaseData> SgdCases()
    {
        foreach (int length in new[] { 0, 1, 15, 16, 17, 67, 300_007 })
            foreach (var (momentum, wd, nesterov, first) in new[] { (0f, 0f, false, false), (0f, 0.1f, false, false), (0.9f, 0.01f, false, true),
                (0.9f, 0.01f, false, false), (0.9f, 0f, true, false), (0.8f, 0.05f, true, true) })
                yield return new TestCaseData(length, momentum, wd, nesterov, first);
    }

    [TestCaseSource(nameof(SgdCases))]
    public void Sgd_EqualsTheUnfusedLibraryRuleBitwise_AndItsTwin(int length, float momentum, float wd, bool nesterov, bool first)
    {
        float[] p = Values(length, 1), g = Values(length, 2), v = Values(length, 3);
        var step = new OptimizerKernels.SgdStep(0.05f, momentum, nesterov ? 0f : 0.1f, wd, nesterov, first);
        float[] p1 = (float[])p.Clone(), v1 = (float[])v.Clone(), p2 = (float[])p.Clone(), v2 = (float[])v.Clone();
        OptimizerKernels.Sgd(p1, g, momentum != 0f ? v1 : null, length, step);

        // The rule as SGD wrote it with TensorPrimitives before the kernel.
        Span<float> grad = g.ToArray(), pp = p2, vv = v2;
        if (wd != 0f) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(pp, wd, g, grad);
        if (momentum != 0f)
        {
            if (first) grad.CopyTo(vv);
            else
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(vv, momentum, vv);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(grad, 1f - step.Dampening, vv, vv);
            }
            if (nesterov) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(vv, momentum, grad, grad);
            else vv.CopyTo(grad);
        }
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(grad, -step.Lr, pp, pp);
        Assert.That(Bits(p1), Is.EqualTo(Bits(p2)), "parameters");
        if (momentum != 0f) Assert.That(Bits(v1), Is.EqualTo(Bits(v2)), "velocities");

        float[] p3 = (float[])p.Clone(), v3 = (float[])v.Clone();
        OptimizerReference.Sgd(p3, g, momentum != 0f ? v3 : null, length, step);
        TensorAssert.Close(p1, p3, atol: 1e-6f, rtol: 1e-5f, what: "twin");
    }

    private static IEnumerable<TestCaseData> AdamCases()
    {
        foreach (int length in new[] { 0, 1, 15, 16, 17, 67, 300_007 })
            foreach (var (decoupled, wd, amsgrad, t) in new[] { (false, 0f, false, 1), (false, 0.01f, true, 3), (true, 0.01f, false, 2), (true, 0.1f, true, 7) })
                yield return new TestCaseData(length, decoupled, wd, amsgrad, t);
    }

    [TestCaseSource(nameof(AdamCases))]
    public void Adam_EqualsTheUnfusedLibraryRuleBitwise_AndItsTwin(int length, bool decoupled, float wd, bool amsgrad, int t)
    {
        const float lr = 1e-2f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
        float[] p = Values(length, 4), g = Values(length, 5), m = Values(length, 6), v = Values(length, 7).Select(Math.Abs).ToArray();
        float[] vMax = v.Select(x => x * 1.5f).ToArray();
        double stepSize = lr / (1.0 - Math.Pow(beta1, t));
        float correction2 = (float)Math.Sqrt(1.0 - Math.Pow(beta2, t));
        var step = new OptimizerKernels.AdamStep(beta1, beta2, eps, (float)stepSize, correction2, decoupled ? 1f - lr * wd : 1f, decoupled ? 0f : wd);
        float[] p1 = (float[])p.Clone(), m1 = (float[])m.Clone(), v1 = (float[])v.Clone(), vm1 = (float[])vMax.Clone();
        OptimizerKernels.Adam(p1, g, m1, v1, amsgrad ? vm1 : null, length, step);

        // The rule as Adam wrote it with TensorPrimitives before the kernel.
        float[] p2 = (float[])p.Clone(), m2 = (float[])m.Clone(), v2 = (float[])v.Clone(), vm2 = (float[])vMax.Clone(), d = new float[length];
        ReadOnlySpan<float> grad = g;
        if (decoupled) System.Numerics.Tensors.TensorPrimitives.Multiply(p2, 1f - lr * wd, p2);
        else if (wd != 0f)
        {
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(p2, wd, g, d);
            grad = d.ToArray();
        }
        System.Numerics.Tensors.TensorPrimitives.Multiply(m2, beta1, m2);
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(grad, 1f - beta1, m2, m2);
        System.Numerics.Tensors.TensorPrimitives.Multiply(v2, beta2, v2);
        for (int i = 0; i < length; i++) v2[i] += (1f - beta2) * grad[i] * grad[i];
        ReadOnlySpan<float> second = v2;
        if (amsgrad)
        {
            System.Numerics.Tensors.TensorPrimitives.Max(vm2, v2, vm2);
            second = vm2;
        }
        System.Numerics.Tensors.TensorPrimitives.Sqrt(second, d);
        System.Numerics.Tensors.TensorPrimitives.Divide(d, correction2, d);
        System.Numerics.Tensors.TensorPrimitives.Add(d, eps, d);
        for (int i = 0; i < length; i++) p2[i] += (float)-stepSize * (m2[i] / d[i]);
        Assert.That(Bits(p1), Is.EqualTo(Bits(p2)), "parameters");
        Assert.That(Bits(m1), Is.EqualTo(Bits(m2)), "first moments");
        Assert.That(Bits(v1), Is.EqualTo(Bits(v2)), "second moments");
        if (amsgrad) Assert.That(Bits(vm1), Is.EqualTo(Bits(vm2)), "maxima");

        float[] p3 = (float[])p.Clone(), m3 = (float[])m.Clone(), v3 = (float[])v.Clone(), vm3 = (float[])vMax.Clone();
        OptimizerReference.Adam(p3, g, m3, v3, amsgrad ? vm3 : null, length, step);
        TensorAssert.Close(p1, p3, atol: 1e-6f, rtol: 1e-5f, what: "twin");
    }

    [Test]
    public void Kernels_RejectArraysShorterThanLength()
    {
        Assert.Throws<ArgumentException>(() => OptimizerKernels.Sgd(new float[3], new float[4], null, 4, new OptimizerKernels.SgdStep(0.1f, 0f, 0f, 0f, false, false)));
        Assert.Throws<ArgumentException>(() => OptimizerKernels.Sgd(new float[4], new float[4], null, 4, new OptimizerKernels.SgdStep(0.1f, 0.9f, 0f, 0f, false, false)));
        Assert.Throws<ArgumentException>(() => OptimizerKernels.Adam(new float[4], new float[4], new float[4], new float[3], null, 4, default));
    }
}
