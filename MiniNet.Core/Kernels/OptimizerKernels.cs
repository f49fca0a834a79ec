using System.Numerics;

namespace MiniNet.Kernels;

// Fused optimizer updates: one pass over parameter, gradient and state instead of one pass per arithmetic step
// (the updates are memory-bound, so passes are what cost). Large tensors are split statically over threads.
// Reference twin: Kernels/Reference/OptimizerReference.cs.
internal static class OptimizerKernels
{
    /// <summary>SGD with momentum, PyTorch's rule after the first step: v ← μ·v + (1 − dampening)·g; p ← p − lr·v.</summary>
    public static void SgdMomentum(float[] p, float[] g, float[] v, int length, float lr, float momentum, float dampening)
    {
        Parallelism.ForSlices(length, (start, count) =>
        {
            int end = start + count;
            var vm = new Vector<float>(momentum);
            var vg = new Vector<float>(1f - dampening);
            var vlr = new Vector<float>(-lr);
            int i = start, w = Vector<float>.Count;
            for (; i <= end - w; i += w)
            {
                var velocity = Vector.FusedMultiplyAdd(new Vector<float>(v, i), vm, new Vector<float>(g, i) * vg);
                velocity.CopyTo(v, i);
                Vector.FusedMultiplyAdd(velocity, vlr, new Vector<float>(p, i)).CopyTo(p, i);
            }
            for (; i < end; i++)
            {
                v[i] = v[i] * momentum + (1f - dampening) * g[i];
                p[i] -= lr * v[i];
            }
        });
    }
}
